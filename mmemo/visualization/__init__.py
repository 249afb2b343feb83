# Copyright (c) mmemo contributors. All rights reserved.
from .av_visualizer import AVVisualizer

__all__ = ['AVVisualizer']
