# The built-in synthetic valence/arousal set (Aff-Wild2 layout, generated on
# first use into data/synthetic_va): 30 videos of 10-20 s, 8 training actors
# (Train_Set), 2 validation actors (Validation_Set). Valence bends the drawn
# mouth, arousal drives the voice's syllable rate, loudness and pitch range.
#
# JCA/JMT's sequence windows at the synthetic videos' scale: L = 16 sub-clips
# whose last frames are 8 frames apart (a 128-frame, 5 s window; JCA: 32
# apart, 512 frames), each with 2 frames 4 apart (JCA: 8 frames 4 apart)
# and the 1.28 s of audio before its last frame (JCA: 32 frames' worth) as
# a 64-bin log-mel with a 20 ms window and 10 ms hop at the set's 16 kHz
# (JCA: 44.1 kHz). The validation windows are dense: every frame is the last
# frame of exactly one sub-clip.
dataset_type = 'SyntheticVADataset'
data_root = 'data/synthetic_va'
seq_len = 16
sub_clip_stride = 8
sample_rate = 16000
# the synthetic set's log-mel statistics in dB (JCA: -14.8 / 19.895 on
# Aff-Wild2); a global normalisation keeps the loudness, which is arousal
audio_norm = dict(type='NormalizeAudio', mode='global', mean=-20.3, std=11.2)
load = [
    dict(type='AVInit'),
    dict(type='SampleSubClips', clip_len=2, frame_interval=4),
    dict(type='AVDecode'),
    # the two-face video's _left/_right annotations: keep that person's half
    dict(type='CropPersonSide'),
    dict(type='LoadAudio', sample_rate=sample_rate),
    dict(type='SubClipAudio', span_frames=32),
    dict(
        type='LogMelSpectrogram',
        sample_rate=sample_rate,
        n_fft=512,
        win_length=320,
        hop_length=160,
        n_mels=64),
    audio_norm,
]
# the face fills the 128x128 frame; 64x64 keeps the mouth's bend
resize = dict(type='mmaction.Resize', scale=(64, 64), keep_ratio=False)
pack = [
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
# one crop of 64-100 % of the frame's area (aspect 0.8-1.25) and one flip
# for the whole window: the validation actors' faces are laid out unlike
# the training actors' (as in synthetic_av.py)
train_pipeline = load + [
    dict(
        type='mmaction.RandomResizedCrop',
        area_range=(0.64, 1.0),
        aspect_ratio_range=(0.8, 1.25)),
    resize,
    # valence is the mouth's bend: a horizontal flip keeps the label
    dict(type='mmaction.Flip', flip_ratio=0.5),
] + pack
test_pipeline = load + [resize] + pack
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    size='default',
    seq_len=seq_len,
    sub_clip_stride=sub_clip_stride)

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        split='train', random_offset=True, pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        split='val', pipeline=test_pipeline, test_mode=True, **dataset))
test_dataloader = val_dataloader

val_evaluator = dict(type='CCCMetric')
test_evaluator = val_evaluator
