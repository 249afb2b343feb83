# Copyright (c) mmemo contributors. All rights reserved.
from .ccc_metric import CCCMetric
from .emotion_cls_metric import EmotionClsMetric
from .sentiment_metric import SentimentMetric

__all__ = ['CCCMetric', 'EmotionClsMetric', 'SentimentMetric']
