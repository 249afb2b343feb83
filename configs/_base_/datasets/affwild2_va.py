# Aff-Wild2 valence/arousal (ABAW VA challenge) as JCA/JMT read it: the
# organisers' cropped-aligned 112x112 faces, windows of L = 16 sub-clips whose
# last frames are 32 apart (512 frames), 8 frames per sub-clip at dilation 4,
# the label of each sub-clip's last frame; audio from the video at 44.1 kHz,
# per sub-clip the 45,599 samples (1.03 s) before its last frame as a 64-bin
# log-mel (n_fft 1024, 20 ms window, 10 ms hop) in dB normalised with JCA's
# statistics. Validation windows are dense: every frame is the last frame of
# exactly one sub-clip, so the metric sees each annotated frame once.
#
# Layout (data/affwild2): videos/ (or batch1/, batch2/), cropped_aligned/
# <video>/00001.jpg, annotations/VA_Estimation_Challenge/{Train_Set,
# Validation_Set}/<video>[_left|_right].txt (ABAW 2020/21: ann_dir=
# 'annotations/VA_Set'), frames_fps.csv (m3f's real frame rates).
dataset_type = 'AffWild2VADataset'
data_root = 'data/affwild2'
seq_len = 16
sample_rate = 44100
audio = [
    dict(type='LoadAudio', sample_rate=sample_rate),
    # a fixed length: Aff-Wild2 mixes frame rates, 32 frames would differ
    dict(type='SubClipAudio', duration=45599 / 44100),
    dict(
        type='LogMelSpectrogram',
        sample_rate=sample_rate,
        n_fft=1024,
        win_length=882,
        hop_length=441,
        n_mels=64),
    dict(type='NormalizeAudio', mode='global', mean=-14.8, std=19.895),
]
faces = [
    dict(type='SampleSubClips', clip_len=8, frame_interval=4),
    dict(type='LoadFaceFrames'),
    dict(type='mmaction.Resize', scale=(112, 112), keep_ratio=False),
]
# the raw videos instead of the cropped faces (source='video'): the frames
# are decoded and resized whole (add FaceCrop for uncropped footage)
video = [
    dict(type='AVInit'),
    dict(type='SampleSubClips', clip_len=8, frame_interval=4),
    dict(type='AVDecode'),
    dict(type='mmaction.Resize', scale=(112, 112), keep_ratio=False),
]
pack = [
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
# JCA's random colour augmentation
color = [dict(type='mmaction.ColorJitter')]
train_pipeline = faces + color + audio + pack
test_pipeline = faces + audio + pack
video_train_pipeline = video + color + audio + pack
video_test_pipeline = video + audio + pack
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    source='frames',
    frames_fps='frames_fps.csv',  # relative to data_root
    seq_len=seq_len,
    sub_clip_stride=32)

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        split='train', random_offset=True, pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        split='val', pipeline=test_pipeline, test_mode=True, **dataset))
# the test labels are withheld: test = the validation set, as in the papers
test_dataloader = val_dataloader

val_evaluator = dict(type='CCCMetric')
test_evaluator = val_evaluator
