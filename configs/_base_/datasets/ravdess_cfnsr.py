# RAVDESS speech for CFN-SR / MSAF, read from the released Actor_XX folders:
# the audio-visual 01- mp4 only, frames and its own audio track.
# - video: 30 frames spread evenly over the whole clip, faces cropped (MTCNN
#   here; MSAF uses the FacialTracking landmarks' box) to 224x224; training
#   draws RandomResizedCrop(224, scale 0.8-1.4) and a horizontal flip for
#   every frame on its own (torchvision's, through PerFrame); ImageNet
#   mean/std in the model's data preprocessor;
# - audio: 2.45 s from 0.5 s into the clip at 44.1 kHz, 13 MFCCs with
#   librosa's defaults (n_fft 2048, hop 512, 128 Slaney mels, centred
#   frames) -> 212 frames; raw, as the code.
# Split: the code's 5 folds over the sorted actors, 4 actors each (actors
# 21-24 are never tested); the top-level configs choose the validation set.
dataset_type = 'RavdessDataset'
data_root = 'data/RAVDESS'
five_folds = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16],
              [17, 18, 19, 20]]
split = dict(folds=five_folds, fold=1)

sample_rate = 44100
num_frames = 30
image_size = 224
load = [
    dict(type='AVInit'),
    dict(type='LoadAudio', sample_rate=sample_rate),
    dict(type='AVClipWindow'),  # the whole clip
    dict(type='mmaction.UniformSample', clip_len=num_frames, test_mode=True),
    dict(type='AVDecode'),
    # MTCNN on 3 key frames, see avtca_inputs.py
    dict(
        type='FaceCrop',
        output_size=(image_size, image_size),
        key_frames=3,
        cache_dir='data/face_cache'),
    dict(type='SampleAlignedAudio', window='clip', offset=0.5, duration=2.45),
    dict(
        type='MFCC',
        sample_rate=sample_rate,
        n_mfcc=13,
        n_fft=2048,
        hop_length=512,
        n_mels=128,
        mel_scale='slaney',
        norm='slaney'),
]
pack = [
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs'),
]
# torchvision accepts scale > 1 (a draw larger than the frame is redrawn,
# up to 10 times, then the whole frame is kept); mmaction's own
# RandomResizedCrop asserts area_range <= 1 and draws once per clip
train_pipeline = load + [
    dict(
        type='PerFrame',
        transforms=[
            dict(
                type='mmaction.TorchVisionWrapper',
                op='RandomResizedCrop',
                size=image_size,
                scale=(0.8, 1.4)),
            dict(
                type='mmaction.TorchVisionWrapper', op='RandomHorizontalFlip')
        ]), *pack
]
test_pipeline = load + pack

dataset = dict(type=dataset_type, data_root=data_root, media='av')
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(split='train', pipeline=train_pipeline, **split, **dataset))
val_dataloader = dict(
    batch_size=16,
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
