# configs/cfnsr_ravdess.py trained from a decoded-clip cache (see
# docs/en/user_guides/clip_cache.md): fill the cache once, then train,
#   python tools/data/cache_clips.py configs/cfnsr_ravdess_clipcache.py
#   python tools/train.py configs/cfnsr_ravdess_clipcache.py
# The cache holds each clip's output of the pipeline up to MFCC (its face crops
# (FaceCrop) as uint8, the MFCCs of the aligned audio as float32); the per-
# frame random crops and flips run every epoch. Its frame sampler is already
# deterministic (test_mode): the cache keeps every setting of the decoding
# config. tools/data/cache_clips.py refills only what changed (new or modified
# files); until='SampleAlignedAudio' would keep the waveform instead, for
# waveform augmentations, at the cost of the audio features per epoch.
_base_ = ['./cfnsr_ravdess.py']

clip_cache = dict(
    type='ClipCachePipeline',
    cache_dir='data/clip_cache/cfnsr_ravdess',
    until='MFCC')
# a cached sample is cheap to load: handing its tensors to the main process
# is much of a worker's time, and 'file_system' cuts it by about a third
default_hooks = dict(tensor_sharing=dict(strategy='file_system'))
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(clip_cache, pipeline={{_base_.train_dataloader.dataset.pipeline}})
    ]))
val_dataloader = dict(
    dataset=dict(pipeline=[
        dict(clip_cache, pipeline={{_base_.val_dataloader.dataset.pipeline}})
    ]))
test_dataloader = dict(
    dataset=dict(pipeline=[
        dict(clip_cache, pipeline={{_base_.test_dataloader.dataset.pipeline}})
    ]))
