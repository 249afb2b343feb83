# Copyright (c) mmemo contributors. All rights reserved.
from .av_emotion_dataset import AVEmotionDataset
from .crema_d_dataset import CremaDDataset
from .errors import BadSampleError
from .ravdess_dataset import RavdessDataset
from .synthetic_av_dataset import SyntheticAVDataset
from .toy_av_dataset import ToyAVDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'AVEmotionDataset', 'BadSampleError', 'CremaDDataset', 'RavdessDataset',
    'SyntheticAVDataset', 'ToyAVDataset'
]
