# configs/avtca_mosei.py on the CMU-MultimodalSDK computational sequences
# (data/MOSEI/CMU_MOSEI_{Labels,COVAREP,VisualFacet42}.csd as the SDK
# downloads them, per video): each labelled segment's COVAREP (100 Hz) and
# FACET frames are cut from its video's sequences, padded / truncated to 500
# and 375 steps (MMSA's unaligned lengths); splits = the official folds by
# video id. With sequences aligned to the labels (keys <video>[<segment>],
# e.g. word-aligned then label-aligned with mmsdk) the segment's own rows are
# read instead; seq_lens=dict(audio=50, video=50) then matches MMSA's aligned
# data. Here the labels carry the 6 emotions, so the emotion loss and metrics
# are active.
_base_ = ['./avtca_mosei.py']

dataset = dict(
    _delete_=True,
    type='MoseiCsdDataset',
    data_root='data/MOSEI',
    ann_file='CMU_MOSEI_Labels.csd',
    features=dict(
        audio='CMU_MOSEI_COVAREP.csd', video='CMU_MOSEI_VisualFacet42.csd'),
    seq_lens=dict(audio=500, video=375))

pipeline = {{_base_.pipeline}}
train_dataloader = dict(
    dataset=dict(split='train', pipeline=pipeline, **dataset))
val_dataloader = dict(
    dataset=dict(split='valid', pipeline=pipeline, test_mode=True, **dataset))
test_dataloader = dict(
    dataset=dict(split='test', pipeline=pipeline, test_mode=True, **dataset))
