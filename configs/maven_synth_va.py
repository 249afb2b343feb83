# Stage 3 of the synthetic VA recipe (see jca_synth_va.py) with MAVEN's
# fusion, audio-visual only (no text stream: two cross-modal pathways, v<-a
# and a<-v), on the frozen, cached 128-d sub-clip features of
# configs/concat_synth_va.py's encoders. Each window frame has its own audio
# token (temporal_align 'frame'); the polar (theta, I) output is turned into
# valence = I cos(theta), arousal = I sin(theta).
_base_ = [
    './_base_/datasets/synthetic_va_cached.py', './_base_/default_runtime.py'
]

# the cache's per-frame .npy files read by LoadSequenceFeatures, which also
# marks the padding targets past a video's end (masked from the attention)
# and standardises each window's tensor as MAVEN's code does (the raw video
# features have mean 3.9: without it the mean CCC was 0.55-0.73 depending on
# the seed, 0.73 with the training set's fixed statistics, 0.80 with it)
feature_dir = 'data/synthetic_va/features/concat_synth_va'
streams = ('video', 'audio')
maven_pipeline = [
    dict(
        type='LoadSequenceFeatures',
        feature_dir=f'{feature_dir}/{s}',
        stream=s,
        feature_dim=128,
        standardize=True) for s in streams
] + [
    dict(
        type='PackAVInputs',
        inputs={s: f'{s}_feats'
                for s in streams},
        targets=dict(gt_va='gt_va', va_mask='va_mask'),
        padding_masks={s: f'{s}_padding_mask'
                       for s in streams}),
]
train_dataloader = dict(dataset=dict(pipeline=maven_pipeline))
val_dataloader = dict(dataset=dict(pipeline=maven_pipeline))
test_dataloader = val_dataloader

model = dict(
    type='AVRegressor',
    fusion_head=dict(
        type='MAVENHead',
        in_channels=dict(video=128, audio=128),
        temporal_align=dict(audio='frame'),
        # MSE on (v, a) + 1 - CCC: with the code's 0.1 CCC the predictions
        # shrink towards the mean (lr 1e-4: mean CCC 0.67, PCC 0.73)
        loss=dict(type='VAMSELoss', ccc_weight=1.0)))

# MAVEN's README/code recipe (Adam, weight decay 1e-4, grad-norm clip 1.0)
# at JCA's synthetic lr and schedule (lr 1e-4 learns too slowly on the 83
# training windows: mean CCC 0.69 after 60 epochs without standardisation).
max_epochs = 60
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0))
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
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None),
    logger=dict(interval=10))
randomness = dict(seed=0, deterministic=True)
