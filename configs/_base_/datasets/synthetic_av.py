# The built-in synthetic AV emotion set (generated on first use into
# data/synthetic): 10 actors; test actors 9-10, validation actor 8.
dataset_type = 'SyntheticAVDataset'
data_root = 'data/synthetic'
split = dict(folds=[[9, 10]], fold=1, val_subjects=[8])

# The AVT-CA recipe at the synthetic clips' scale: a 3.6 s window over the
# 3 s clips (padded), 15 frames, whole 128x128 frames resized to 64x64
# (the face fills the frame; no detector needed), 10 MFCCs at 22.05 kHz.
sample_rate = 22050
clip_seconds = 3.6
num_frames = 15
mfcc = dict(
    type='MFCC',
    sample_rate=sample_rate,
    n_mfcc=10,
    n_fft=2048,
    hop_length=512,
    n_mels=128,
    mel_scale='slaney',
    norm='slaney')
test_pipeline = [
    dict(type='AVInit'),
    dict(type='LoadAudio', sample_rate=sample_rate),
    dict(type='AVClipWindow', duration=clip_seconds, anchor='start'),
    dict(type='mmaction.UniformSample', clip_len=num_frames, test_mode=True),
    dict(type='AVDecode'),
    dict(type='SampleAlignedAudio'),
    mfcc,
    dict(type='mmaction.Resize', scale=(128, 128), keep_ratio=False),
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
# the expression sits in the mouth's bend: horizontal flips keep the label
train_pipeline = test_pipeline[:-2] + [
    dict(type='mmaction.Flip', flip_ratio=0.5),
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
dataset = dict(type=dataset_type, data_root=data_root, size='default')

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(split='train', pipeline=train_pipeline, **split, **dataset))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        split='val',
        pipeline=test_pipeline,
        test_mode=True,
        **split,
        **dataset))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))

val_evaluator = dict(type='EmotionClsMetric')
test_evaluator = val_evaluator
