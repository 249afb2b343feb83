# Copyright (c) mmemo contributors. All rights reserved.
from .av_visualization_hook import AVVisualizationHook
from .iter_checkpoint_hook import IterCheckpointHook
from .iter_seed_hook import IterSeedHook
from .media_report_hook import MediaReportHook
from .retain_freed_memory_hook import RetainFreedMemoryHook
from .tensor_sharing_strategy_hook import TensorSharingStrategyHook

__all__ = [
    'AVVisualizationHook', 'IterCheckpointHook', 'IterSeedHook',
    'MediaReportHook', 'RetainFreedMemoryHook', 'TensorSharingStrategyHook'
]
