# Copyright (c) mmemo contributors. All rights reserved.
"""Components for tests and tool smoke runs, not for emotion recognition.

Importing this package registers them in mmemo's registries (the default
``mmemo`` scope); a config that uses them imports it with
``custom_imports = dict(imports=['mmemo.testing'])``, as
``configs/toy_av.py`` does.
"""
from .tiny_av_classifier import TinyAVClassifier
from .toy_av_dataset import ToyAVDataset

__all__ = ['TinyAVClassifier', 'ToyAVDataset']
