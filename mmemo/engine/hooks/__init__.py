# Copyright (c) mmemo contributors. All rights reserved.
from .av_visualization_hook import AVVisualizationHook
from .media_report_hook import MediaReportHook

__all__ = ['AVVisualizationHook', 'MediaReportHook']
