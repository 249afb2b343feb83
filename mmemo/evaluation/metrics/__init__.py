# Copyright (c) mmemo contributors. All rights reserved.
from .ccc_metric import CCCMetric
from .emotion_cls_metric import EmotionClsMetric

__all__ = ['CCCMetric', 'EmotionClsMetric']
