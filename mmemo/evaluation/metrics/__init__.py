# Copyright (c) mmemo contributors. All rights reserved.
from .emotion_cls_metric import EmotionClsMetric

__all__ = ['EmotionClsMetric']
