# AVT-CA's fusion on CMU-MOSEI features: the audio tokens are the 74-d
# COVAREP frames, the video tokens the 35-d FACET frames (no visual CNN: an
# identity encoder), from MMSA's aligned_50.pkl. The head's 7 outputs are
# [sentiment, 6 emotion logits]: L1 on the sentiment (MMSA) + BCE on the
# emotions' presence where labelled (not in the MMSA pickles); evaluated with
# MMSA's sentiment metrics (and the emotions' weighted accuracy / F1).
#   .csd computational sequences: configs/avtca_mosei_csd.py
#   segmented videos (EfficientFace + MFCC): configs/avtca_mosei_raw.py
_base_ = [
    './_base_/models/avtca.py', './_base_/datasets/mosei_features.py',
    './_base_/schedules/mosei_adam.py', './_base_/default_runtime.py'
]

audio_dims = 74  # COVAREP
video_dims = 35  # FACET 4.2
model = dict(
    visual_encoder=dict(
        _delete_=True, type='IdentityEncoder', in_channels=video_dims),
    fusion_head=dict(
        num_classes=7,  # [sentiment, happy, sad, anger, surprise, ...]
        audio_in_channels=audio_dims,
        video_in_channels=video_dims,
        average_clips='score',  # raw outputs: a regression and logits
        loss_cls=dict(
            type='SentimentEmotionLoss',
            sentiment_weight=1.0,
            emotion_weight=1.0)),
    # feature frames as they are (no pixel normalisation)
    data_preprocessor=dict(
        _delete_=True,
        type='mmaction.MultiModalDataPreprocessor',
        preprocessors=dict(
            video=dict(type='mmaction.ActionDataPreprocessor'),
            audio=dict(type='mmaction.ActionDataPreprocessor'))))

# keep the checkpoint with the best validation MAE
default_hooks = dict(
    checkpoint=dict(
        interval=1, max_keep_ckpts=1, save_best='mosei/mae', rule='less'),
    logger=dict(interval=50))
