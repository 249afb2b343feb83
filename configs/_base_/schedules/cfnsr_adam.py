# CFN-SR's training recipe (code): Adam lr 1e-3 (PyTorch defaults otherwise),
# batch 16, 70 epochs, no scheduler, seed 1234. The batch size is set by the
# dataset bases; the best-epoch checkpoint by each top-level config.
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=70, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# fused=True: PyTorch's fused Adam kernel (the whole update in one pass
# instead of a loop over the parameters; the same update up to float
# rounding, see docs/en/user_guides/benchmark.md)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, fused=True))
# no param_scheduler: the learning rate stays at 1e-3
auto_scale_lr = dict(enable=False, base_batch_size=16)
randomness = dict(seed=1234)
