# Copyright (c) mmemo contributors. All rights reserved.
from .av_visualizer import AVVisualizer
from .confusion_matrix import draw_confusion_matrix

__all__ = ['AVVisualizer', 'draw_confusion_matrix']
