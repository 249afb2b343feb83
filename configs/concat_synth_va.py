# Stage 1 of the synthetic VA recipe (JMT's two-stage recipe: train the
# sub-clip encoders, freeze them, fuse their cached features):
#   python tools/train.py configs/concat_synth_va.py
# trains two small encoders end to end with JMT's concat + FC baseline.
# Valence is only visible and arousal only audible, so the baseline's
# encoders learn one each. Stage 2 caches their features, stage 3 trains
# JCA / JMT on the cache: configs/jca_synth_va.py, configs/jmt_synth_va.py.
_base_ = [
    './_base_/models/jca.py', './_base_/datasets/synthetic_va.py',
    './_base_/default_runtime.py'
]

# JCA's AVRegressor and input normalisation, with trainable small encoders
# and the concat + FC head in place of TSAV's frozen ones and JCA's block
model = dict(
    freeze_encoders=False,
    # per-frame MMAction2 ResNet-18 cut after its second stage, max-pooled
    # over space (the mouth is a thin line) and over the sub-clip's frames
    visual_encoder=dict(
        _delete_=True,
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.ResNet',
            depth=18,
            pretrained=None,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, )),
        feat_channels=128,
        per_frame=True,
        spatial_pool='max',
        temporal_pool='max'),
    # the same two stages on the 1-channel log-mel image, averaged over
    # frequency and time (syllable rate and loudness are clip-level)
    audio_encoder=dict(
        _delete_=True,
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.ResNet',
            depth=18,
            pretrained=None,
            in_channels=1,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, )),
        feat_channels=128,
        spatial_pool='avg',
        temporal_pool='avg'),
    fusion_head=dict(
        _delete_=True,
        type='ConcatVAHead',
        audio_channels=128,
        video_channels=128,
        hidden=256,
        dropout=0.3))

max_epochs = 16
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    # the synthetic set's validation actors are also its test: no selection
    checkpoint=dict(interval=4, max_keep_ckpts=1, save_best=None),
    logger=dict(interval=10))

# the same numbers on every CPU run (README, model pages)
randomness = dict(seed=0, deterministic=True)
