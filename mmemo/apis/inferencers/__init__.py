# Copyright (c) mmemo contributors. All rights reserved.
"""Inferencers (``mmemo.registry.INFERENCERS``)."""
from .av_inferencer import AVInferencer

__all__ = ['AVInferencer']
