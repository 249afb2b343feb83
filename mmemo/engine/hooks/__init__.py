# Copyright (c) mmemo contributors. All rights reserved.
from .av_visualization_hook import AVVisualizationHook

__all__ = ['AVVisualizationHook']
