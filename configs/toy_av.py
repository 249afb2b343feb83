# A tiny two-stream model on random audio-visual tensors (no media files).
# It exercises the tools, checkpoints and distributed runs in seconds on a
# CPU; it is not an emotion model.
_base_ = ['./_base_/default_runtime.py']
# TinyAVClassifier and ToyAVDataset are test components, outside mmemo's
# registry locations: importing mmemo.testing registers them
custom_imports = dict(imports=['mmemo.testing'], allow_failed_imports=False)

num_classes = 4
model = dict(
    type='TinyAVClassifier',  # mmemo's registry (the default scope)
    video_channels=3,
    audio_features=16,
    num_classes=num_classes,
    hidden_channels=16,
    loss_cls=dict(type='mmaction.CrossEntropyLoss'),  # MMAction2's registry
    data_preprocessor=dict(
        type='mmaction.MultiModalDataPreprocessor',
        preprocessors=dict(
            video=dict(
                type='mmaction.ActionDataPreprocessor',
                mean=[128.0, 128.0, 128.0],
                std=[32.0, 32.0, 32.0],
                format_shape='NCTHW'),
            audio=dict(type='mmaction.ActionDataPreprocessor'))))

dataset_type = 'ToyAVDataset'
pipeline = [
    dict(
        type='mmaction.PackActionInputs',
        collect_keys=('video', 'audio'),
        meta_keys=('sample_idx', ))
]
data_cfg = dict(
    type=dataset_type,
    num_classes=num_classes,
    video_shape=(3, 4, 16, 16),
    audio_shape=(32, 16),
    signal=0.2,  # weak enough that accuracy grows over the epochs
    pipeline=pipeline)

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(num_samples=64, seed=0, **data_cfg))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(num_samples=32, seed=1, test_mode=True, **data_cfg))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], seed=2))

val_evaluator = dict(type='mmaction.AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=4, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[3], gamma=0.1)
]

default_hooks = dict(logger=dict(interval=4))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=8)
