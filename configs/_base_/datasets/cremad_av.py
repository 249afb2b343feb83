# CREMA-D for AVT-CA-style models, read from VideoFlash/*.flv + AudioWAV/*.wav.
# HiCMAE's 5 subject folds (fold 1 by default); model selection on the 4
# highest actor ids outside the test fold (val_subjects=4 follows `fold`):
#   --cfg-options train_dataloader.dataset.fold=3 val_dataloader.dataset.fold=3
#                 test_dataloader.dataset.fold=3
dataset_type = 'CremaDDataset'
data_root = 'data/CREMA-D'
split = dict(fold=1, val_subjects=4)

# The AVT-CA recipe (see ravdess_av.py): 3.6 s window (CREMA-D clips last
# 1.3-5 s, shorter ones are zero-padded), 15 frames, MTCNN faces at 224,
# 10 MFCCs at 22.05 kHz (the 16 kHz wav is resampled).
sample_rate = 22050
clip_seconds = 3.6
num_frames = 15
face_crop = dict(
    type='FaceCrop', output_size=(224, 224), cache_dir='data/face_cache')
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
    dict(type='AVClipWindow', duration=clip_seconds, anchor='center'),
    dict(type='mmaction.UniformSample', clip_len=num_frames, test_mode=True),
    dict(type='AVDecode'),
    face_crop,
    dict(type='SampleAlignedAudio'),
    mfcc,
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
# AVT-CA's training augmentation: flip and rotate (up to 10 degrees) the clip
train_pipeline = test_pipeline[:-2] + [
    dict(type='mmaction.Flip', flip_ratio=0.5),
    dict(type='RandomRotation', max_angle=10),
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
dataset = dict(type=dataset_type, data_root=data_root)

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
