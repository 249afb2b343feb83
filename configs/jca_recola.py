# JCA on RECOLA (AVEC valence/arousal): gold standard = mean of the six
# raters, 25 Hz, one CCC over the concatenated partition. The JCA paper
# reports RECOLA, but its RECOLA code and settings are not public
# (models.md §2): this config reuses the Aff-Wild2 recipe on RECOLA's
# 25 fps videos and the separate 44.1 kHz recordings, with the raw video
# frames (RECOLA has no cropped-aligned faces; add FaceCrop for tighter
# crops).
#
# The AVEC partitions are not part of the release: list your train and
# development subjects here (or on the command line: `--cfg-options
# train_dataloader.dataset.subjects="[16,17]"`).
_base_ = ['./jca_affwild2.py']
train_subjects = []  # e.g. the AVEC 2016 training subjects, P<id> or <id>
val_subjects = []  # and the development subjects
recola = dict(
    type='RecolaDataset',
    data_root='data/recola',
    seq_len=16,
    sub_clip_stride=32)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        subjects=train_subjects,
        random_offset=True,
        pipeline={{_base_.video_train_pipeline}},
        **recola))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        subjects=val_subjects,
        test_mode=True,
        pipeline={{_base_.video_test_pipeline}},
        **recola))
test_dataloader = val_dataloader
