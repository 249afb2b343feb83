# MAVEN on Aff-Wild2 with two streams, video and audio (the AV-only
# setting): the same features and recipe as maven_affwild2.py without the
# text stream, so two pathways (v<-a, a<-v) and no text parameter
# (3,677,442 parameters).
_base_ = ['./maven_affwild2.py']

feature_root = 'data/affwild2/features'
streams = dict(
    video=dict(dir='swin_b', dim=1024), audio=dict(dir='hubert', dim=768))
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
train_dataloader = dict(dataset=dict(pipeline=feature_pipeline))
val_dataloader = dict(dataset=dict(pipeline=feature_pipeline))
test_dataloader = val_dataloader

model = dict(
    fusion_head=dict(
        in_channels=dict(_delete_=True, video=1024, audio=768),
        temporal_align=dict(_delete_=True, audio='frame')))
