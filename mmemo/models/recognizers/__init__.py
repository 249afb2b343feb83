# Copyright (c) mmemo contributors. All rights reserved.
from .av_recognizer import AVRecognizer
from .av_regressor import AVRegressor
from .modality_dropout import modality_dropout
from .tiny_av_classifier import TinyAVClassifier

__all__ = [
    'AVRecognizer', 'AVRegressor', 'TinyAVClassifier', 'modality_dropout'
]
