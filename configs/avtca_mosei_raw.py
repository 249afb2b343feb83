# AVT-CA on CMU-MOSEI's segmented videos, the model of the RAVDESS / CREMA-D
# configs (EfficientFace per frame + 10 MFCCs) with MOSEI's 7 outputs
# [sentiment, 6 emotion logits] (see configs/avtca_mosei.py for the loss and
# the metrics), on data/MOSEI/Raw/Videos/Segmented/Combined/*.mp4.
_base_ = [
    './_base_/models/avtca.py', './_base_/datasets/mosei_raw.py',
    './_base_/schedules/mosei_adam.py', './_base_/default_runtime.py'
]

model = dict(
    fusion_head=dict(
        num_classes=7,
        average_clips='score',
        loss_cls=dict(
            type='SentimentEmotionLoss',
            sentiment_weight=1.0,
            emotion_weight=1.0)))
train_dataloader = dict(batch_size=8)

default_hooks = dict(
    checkpoint=dict(
        interval=1, max_keep_ckpts=1, save_best='mosei/mae', rule='less'),
    logger=dict(interval=10))
