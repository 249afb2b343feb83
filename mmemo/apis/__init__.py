# Copyright (c) mmemo contributors. All rights reserved.
"""High-level APIs (``mmemo.registry.INFERENCERS``) and tools' workers."""
from .feature_cache import (cache_path, extract_sub_clip_features,
                            load_cache_meta)

__all__ = ['cache_path', 'extract_sub_clip_features', 'load_cache_meta']
