# Copyright (c) mmemo contributors. All rights reserved.
from .tiny_av_classifier import TinyAVClassifier

__all__ = ['TinyAVClassifier']
