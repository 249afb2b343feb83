# A MOSEI schedule (MMSA-like: Adam, model selection on the validation MAE;
# the AVT-CA paper does not give its MOSEI recipe): Adam lr 1e-3, 20 epochs,
# batch 32 (in the dataset bases). The best checkpoint is kept by each
# top-level config's CheckpointHook (save_best='mosei/mae', rule='less').
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# fused=True: PyTorch's fused Adam kernel (the whole update in one pass
# instead of a loop over the parameters; the same update up to float
# rounding, see docs/en/user_guides/benchmark.md)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, fused=True))
auto_scale_lr = dict(enable=False, base_batch_size=32)
