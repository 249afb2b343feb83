# Copyright (c) mmemo contributors. All rights reserved.
from .ccc import concordance_cc
from .sentiment import (binary_weighted_f1, emotion_presence_scores,
                        mosei_sentiment_scores, weighted_accuracy)

__all__ = [
    'binary_weighted_f1', 'concordance_cc', 'emotion_presence_scores',
    'mosei_sentiment_scores', 'weighted_accuracy'
]
