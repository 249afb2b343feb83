# Stage 3 of the synthetic VA recipe: JCA's paper fusion trained on the
# frozen, cached sub-clip features of configs/concat_synth_va.py's encoders
# (stage 1, then stage 2: tools/misc/extract_va_features.py; `make demo-va`
# runs all three). Video features know valence, audio features arousal, so
# JCA needs both streams to predict both.
_base_ = [
    './_base_/datasets/synthetic_va_cached.py', './_base_/default_runtime.py'
]

model = dict(
    type='AVRegressor',
    fusion_head=dict(
        type='JCAHead', seq_len=16, audio_channels=128, video_channels=128))

# JCA's T-BIOM code: Adam, lr 1e-4, batch 64 over ~50 epochs on Aff-Wild2's
# ~5000 windows; on the synthetic set's 83 windows a larger lr converges in
# a few hundred steps.
max_epochs = 60
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=10)
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
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None),
    logger=dict(interval=10))

# the same numbers on every CPU run (README, model pages)
randomness = dict(seed=0, deterministic=True)
