# Copyright (c) mmemo contributors. All rights reserved.
from .ccc_loss import CCCLoss
from .sentiment_emotion_loss import SentimentEmotionLoss
from .va_mse_loss import VAMSELoss

__all__ = ['CCCLoss', 'SentimentEmotionLoss', 'VAMSELoss']
