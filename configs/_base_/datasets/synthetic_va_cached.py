# The synthetic VA set's windows read from a feature cache instead of
# decoded: the same windows as synthetic_va.py, each sub-clip's video and
# audio features loaded (memory-mapped) from
#   python tools/misc/extract_va_features.py configs/concat_synth_va.py \
#       work_dirs/concat_synth_va/epoch_16.pth --out <feature_dir>
_base_ = ['./synthetic_va.py']
feature_dir = 'data/synthetic_va/features/concat_synth_va'
cached_pipeline = [
    dict(type='LoadSubClipFeatures', feature_dir=feature_dir),
    dict(
        type='PackAVInputs',
        inputs=dict(video='video_feats', audio='audio_feats'),
        targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=cached_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=cached_pipeline))
test_dataloader = val_dataloader
