# Copyright (c) mmemo contributors. All rights reserved.
"""High-level APIs (``mmemo.registry.INFERENCERS``) and tools' workers."""
from .feature_cache import (cache_path, extract_sub_clip_features,
                            load_cache_meta)
from .inference import (inference_av, inference_folder, init_model,
                        media_files)
from .inferencers import AVInferencer
from .text_features import (duration_lookup, extract_text_features,
                            save_sequence_features, sequence_features_path)

__all__ = [
    'AVInferencer', 'cache_path', 'duration_lookup',
    'extract_sub_clip_features', 'extract_text_features', 'inference_av',
    'inference_folder', 'init_model', 'load_cache_meta', 'media_files',
    'save_sequence_features', 'sequence_features_path'
]
