# CMU-MOSEI's segmented videos (CMU_MOSEI.zip: Raw/Videos/Segmented/Combined/
# <video_id>_<segment>.mp4, audio from the mp4's own track) with the labels of
# CMU_MOSEI_Labels.csd (segment = the label's row in its video, from 0) or a
# CSV (video_id,segment,sentiment,happy,...,fear[,video,audio]) when the file
# names follow another scheme; splits = the official folds by video id.
# Inputs: the AVT-CA recipe of avtca_inputs.py (a centred 3.6 s window, 15
# MTCNN face crops at 224, 10 MFCCs at 22.05 kHz).
_base_ = ['./avtca_inputs.py']

dataset_type = 'MoseiRawDataset'
data_root = 'data/MOSEI'
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='CMU_MOSEI_Labels.csd',
    video_pattern='Raw/Videos/Segmented/Combined/{video_id}_{segment}.mp4',
    audio_pattern=None)

pack = dict(
    type='PackAVInputs',
    targets=dict(gt_label='targets'),
    meta_keys=('filename', 'audio_path', 'video_id', 'segment', 'name',
               'split', 'sample_idx', 'av_window', 'face_fallback_frames'))
load = [
    dict(type='AVInit'),
    dict(type='LoadAudio', sample_rate={{_base_.sample_rate}}),
    dict(
        type='AVClipWindow', duration={{_base_.clip_seconds}},
        anchor='center'),
]
test_pipeline = load + [
    dict(
        type='mmaction.UniformSample',
        clip_len={{_base_.num_frames}},
        test_mode=True),
    dict(type='AVDecode'),
    {{_base_.face_crop}},
    dict(type='SampleAlignedAudio'),
    {{_base_.mfcc}},
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    pack,
]
train_pipeline = load + [
    dict(type='mmaction.UniformSample', clip_len={{_base_.num_frames}}),
    dict(type='AVDecode'),
    {{_base_.face_crop}},
    dict(type='SampleAlignedAudio'),
    {{_base_.mfcc}},
    dict(type='mmaction.Flip', flip_ratio=0.5),
    dict(type='RandomRotation', max_angle=10),
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    pack,
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(split='train', pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        split='valid', pipeline=test_pipeline, test_mode=True, **dataset))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))

val_evaluator = dict(type='SentimentMetric')
test_evaluator = val_evaluator
