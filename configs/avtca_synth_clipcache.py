# configs/avtca_synth.py trained from a decoded-clip cache (see
# docs/en/user_guides/clip_cache.md): fill the cache once, then train,
#   python tools/data/cache_clips.py configs/avtca_synth_clipcache.py
#   python tools/train.py configs/avtca_synth_clipcache.py
# The cache holds each clip's output of the pipeline up to NormalizeAudio (its
# 4 decoded frames as uint8, the 10 MFCCs of the aligned 2 s of audio,
# normalised, as float32); the random crops and flips run every epoch. The
# training frames are those of the test-mode sampler: the frame-sampling jitter
# of the decoding config is not kept (see the guide for why).
# tools/data/cache_clips.py refills only what changed (new or modified files);
# until='SampleAlignedAudio' would keep the waveform instead, for waveform
# augmentations, at the cost of the audio features per epoch.
_base_ = ['./avtca_synth.py']

clip_cache = dict(
    type='ClipCachePipeline',
    cache_dir='data/clip_cache/avtca_synth',
    until='NormalizeAudio')
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
