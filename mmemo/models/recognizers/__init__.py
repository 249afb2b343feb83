# Copyright (c) mmemo contributors. All rights reserved.
from .av_recognizer import AVRecognizer
from .av_regressor import AVRegressor
from .modality_dropout import modality_dropout

__all__ = ['AVRecognizer', 'AVRegressor', 'modality_dropout']
