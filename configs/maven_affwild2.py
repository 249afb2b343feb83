# MAVEN on Aff-Wild2 valence/arousal from pre-extracted features: video,
# audio and text streams, six cross-modal pathways, the polar (theta, I) MLP
# head (8,535,810 parameters, the code's Train_MLP model).
#
# Features (data/affwild2/features, extracted beforehand, never here):
#   swin_b/<video_id>.npy    [num_frames, 1024] timm swin_base_patch4_window7
#                            _224 per face frame (row i = annotation line
#                            i + 1); one file per annotation (_left/_right)
#   hubert/<video>.npz       features [S, 768] (hubert-base-ls960, mean over
#                            time), intervals [S, 2] seconds, per ASR segment
#   roberta/<video>.npz      the same for roberta-base on the transcript
#                            (tools/misc/extract_text_features.py)
# A per-video .npz serves both _left/_right annotations of its video.
#
# A window is L = 128 consecutive frames (sub_clip_stride 1); audio and text
# segments are interpolated to the frames as in the paper (each frame takes
# the segment containing it; frames outside every segment are masked). The
# code's one token per segment instead: mode='segment', max_tokens=8 in
# LoadSequenceFeatures and temporal_align=dict(audio='mean', text='mean').
# Each window's tensor is standardised, (x - mean) / std, as in the code (its
# sigma 0.01 Gaussian noise augmentation is left out).
_base_ = ['./_base_/datasets/affwild2_va.py', './_base_/default_runtime.py']

feature_root = 'data/affwild2/features'
streams = dict(
    video=dict(dir='swin_b', dim=1024),
    audio=dict(dir='hubert', dim=768),
    text=dict(dir='roberta', dim=768))
seq_len = 128
feature_pipeline = [
    dict(
        type='LoadSequenceFeatures',
        feature_dir=f"{feature_root}/{s['dir']}",
        stream=name,
        mode='frame',
        feature_dim=s['dim'],
        standardize=True) for name, s in streams.items()
] + [
    dict(
        type='PackAVInputs',
        inputs={name: f'{name}_feats'
                for name in streams},
        targets=dict(gt_va='gt_va', va_mask='va_mask'),
        padding_masks={name: f'{name}_padding_mask'
                       for name in streams}),
]
# the annotations and frames_fps.csv (the frame rate that places the
# segments) are read; no face image, video or audio file is needed
features_only = dict(
    source='frames',
    with_audio=False,
    check_files=False,
    seq_len=seq_len,
    sub_clip_stride=1,
    pipeline=feature_pipeline)
train_dataloader = dict(
    batch_size=8, num_workers=4, dataset=dict(**features_only))
val_dataloader = dict(
    batch_size=8, num_workers=4, dataset=dict(**features_only))
test_dataloader = val_dataloader

model = dict(
    type='AVRegressor',
    fusion_head=dict(
        type='MAVENHead',
        in_channels={
            name: s['dim']
            for name, s in streams.items()
        },
        temporal_align=dict(audio='frame', text='frame'),
        # the paper's MSE on (v, a); ccc_weight adds a differentiable
        # 1 - CCC term (the code: 0.1, without gradient)
        loss=dict(type='VAMSELoss', ccc_weight=0.)))

# MAVEN's README / Train_MLP recipe: Adam lr 1e-4, weight decay 1e-4, batch
# 8, 100 epochs, ReduceLROnPlateau(x0.1, patience 5), early stop after 10
# epochs without improvement, grad-norm clip 1.0. The code watches the
# validation loss; mmemo the validation mean CCC. The code's re-initialising
# of the whole model when the validation loss stalls is a bug: not done.
max_epochs = 100
train_cfg = dict(
    type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# fused=True: PyTorch's fused Adam kernel (the whole update in one pass
# instead of a loop over the parameters; the same update up to float
# rounding, see docs/en/user_guides/benchmark.md)
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4, fused=True),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='va/ccc_mean',
        rule='greater',
        factor=0.1,
        patience=5)
]
custom_hooks = [
    dict(
        type='EarlyStoppingHook',
        monitor='va/ccc_mean',
        rule='greater',
        patience=10)
]
default_hooks = dict(
    checkpoint=dict(
        interval=1, max_keep_ckpts=1, save_best='va/ccc_mean', rule='greater'))
