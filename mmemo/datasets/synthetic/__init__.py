# Copyright (c) mmemo contributors. All rights reserved.
"""The built-in synthetic audio-visual emotion sets.

Two generators write real media (H.264 + AAC ``.mp4`` and PCM ``.wav``):

* :func:`generate_categorical`: 6 classes, ``label = 2 * V + A`` with the
  facial expression ``V`` visible only in the video and the pitch contour
  ``A`` audible only in the audio;
* :func:`generate_dimensional`: Aff-Wild2-shaped per-frame valence (drawn
  as the mouth's bend) and arousal (heard as syllable rate, loudness and
  pitch range).

Both are deterministic from a seed and idempotent on their output folder;
``plan_*`` return the meta (every factor of every clip) without rendering.
The command line is ``tools/data/synthetic/generate_synthetic.py``.
"""
from .categorical import (CLASSES, CategoricalParams, clip_name,
                          generate_categorical, plan_categorical)
from .common import (GENERATOR_VERSION, GeneratedOnFirstRead,
                     generate_on_rank0)
from .dimensional import (DimensionalParams, generate_dimensional,
                          plan_dimensional, read_annotation)

__all__ = [
    'CLASSES', 'CategoricalParams', 'DimensionalParams', 'GENERATOR_VERSION',
    'GeneratedOnFirstRead',
    'clip_name', 'generate_categorical', 'generate_dimensional',
    'generate_on_rank0', 'plan_categorical', 'plan_dimensional',
    'read_annotation'
]
