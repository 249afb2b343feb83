# RAVDESS for AVT-CA-style models, read from the released Actor_XX folders.
# Default split: Chumachenko et al. / AVT-CA (test actors 1-4, validation
# 5-8, training 9-24). The 6-fold protocol (4 actors per fold, no
# validation set) is configs/avtca_ravdess_6fold.py.
dataset_type = 'RavdessDataset'
data_root = 'data/RAVDESS'
split = dict(folds=[[1, 2, 3, 4]], fold=1, val_subjects=[5, 6, 7, 8])

# AVT-CA inputs: a centred 3.6 s window, 15 frames spread evenly over it,
# faces cropped (MTCNN) to 224x224; the matching audio-only wav of the same
# 3.6 s at 22.05 kHz, 10 MFCCs with librosa's defaults (n_fft 2048, hop 512,
# 128 Slaney mels) -> 156 frames.
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
# the code flips and rotates (up to 10 degrees) the whole clip
train_pipeline = test_pipeline[:-2] + [
    dict(type='mmaction.Flip', flip_ratio=0.5),
    dict(type='RandomRotation', max_angle=10),
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
dataset = dict(type=dataset_type, data_root=data_root, media='av+wav')

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
