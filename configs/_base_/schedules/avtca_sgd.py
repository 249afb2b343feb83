# AVT-CA's training recipe (code defaults, opts.py): SGD lr 0.06, momentum
# 0.9, dampening 0.9, weight decay 1e-3; lr x0.1 at epochs 40, 55, 65, 70
# (and 200, 250); batch 8; 10 epochs by default; the checkpoint with the best
# validation accuracy is tested (CheckpointHook's save_best, set in each
# top-level config: bases may not share keys).
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# fused=True: PyTorch's fused SGD kernel (the whole update in one pass
# instead of a loop over the parameters; the same update up to float
# rounding, see docs/en/user_guides/benchmark.md)
optim_wrapper = dict(
    optimizer=dict(
        type='SGD',
        lr=0.06,
        momentum=0.9,
        dampening=0.9,
        weight_decay=1e-3,
        fused=True))
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[40, 55, 65, 70, 200, 250],
        gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=8)
