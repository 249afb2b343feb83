# CMU-MOSEI segments as feature sequences (MoseiPickleDataset) for models whose
# encoders take feature frames. Default: MMSA's aligned_50.pkl (COVAREP 74-d
# audio and FACET 35-d video, 50 word-aligned steps; data/MOSEI/Processed/ as
# MMSA lays it out), the pickle's own train/valid/test split (checked against
# the official folds: mismatches are logged). Other files:
#   unaligned_50.pkl (audio 500 / video 375 steps): ann_file='Processed/
#       unaligned_50.pkl'
#   MulT's mosei_senti_data.pkl: ann_file='mosei_senti_data.pkl'
#   the official folds instead of the pickle's: split_by='official'
#   .csd computational sequences: configs/avtca_mosei_csd.py
dataset_type = 'MoseiPickleDataset'
data_root = 'data/MOSEI'
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='Processed/aligned_50.pkl',
    features=dict(audio='audio', video='vision'))

# targets: [sentiment, happy, sad, anger, surprise, disgust, fear] (the
# pickles have NaN emotions); the padding masks go along for models that
# use them (AVT-CA does not).
pipeline = [
    dict(
        type='PackAVInputs',
        inputs=dict(video='video', audio='audio'),
        one_clip=('video', ),
        targets=dict(
            gt_label='targets',
            audio_mask='audio_mask',
            video_mask='video_mask'),
        meta_keys=('video_id', 'segment', 'name', 'split', 'sample_idx'))
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(split='train', pipeline=pipeline, **dataset))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(split='valid', pipeline=pipeline, test_mode=True, **dataset))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))

val_evaluator = dict(type='SentimentMetric')
test_evaluator = val_evaluator
