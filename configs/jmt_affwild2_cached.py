# JMT on Aff-Wild2 from cached TSAV features (see jca_affwild2_cached.py for
# the extraction; both heads use the same cache).
_base_ = ['./jmt_affwild2.py']
feature_dir = 'data/affwild2/features/tsav'
cached_pipeline = [
    dict(type='LoadSubClipFeatures', feature_dir=feature_dir),
    dict(
        type='PackAVInputs',
        inputs=dict(video='video_feats', audio='audio_feats'),
        targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
# features need no normalisation: the default preprocessor only stacks them
model = dict(visual_encoder=None, audio_encoder=None, data_preprocessor=None)
train_dataloader = dict(num_workers=2, dataset=dict(pipeline=cached_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(pipeline=cached_pipeline))
test_dataloader = val_dataloader
