# The AVT-CA input recipe (official code, RAVDESS), shared by the CREMA-D
# and RAVDESS bases: a centred 3.6 s window (shorter clips are zero-padded),
# 15 frames spread evenly over it, faces cropped (MTCNN on key frames) to
# 224x224; the same 3.6 s of audio at 22.05 kHz (resampled if needed), 10
# MFCCs with librosa's defaults (n_fft 2048, hop 512, 128 Slaney mels) -> 156
# frames.
sample_rate = 22050
clip_seconds = 3.6
num_frames = 15
# MTCNN on 3 key frames (first, middle, last), centres interpolated between:
# as close to MTCNN on every frame as docs/en/user_guides/faces.md asks
face_crop = dict(
    type='FaceCrop',
    output_size=(224, 224),
    key_frames=3,
    cache_dir='data/face_cache')
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
