# Copyright (c) mmemo contributors. All rights reserved.
from .affwild2_va_dataset import AffWild2VADataset
from .av_emotion_dataset import AVEmotionDataset
from .clip_cache import ClipCache
from .crema_d_dataset import CremaDDataset
from .errors import BadSampleError
from .mosei_csd_dataset import MoseiCsdDataset
from .mosei_dataset import BaseMoseiDataset
from .mosei_pickle_dataset import MoseiPickleDataset
from .mosei_raw_dataset import MoseiRawDataset
from .ravdess_dataset import RavdessDataset
from .recola_dataset import RecolaDataset
from .samplers import SeededSampler
from .synthetic_av_dataset import SyntheticAVDataset
from .synthetic_va_dataset import SyntheticVADataset
from .transforms import *  # noqa: F401,F403
from .va_sequence_dataset import VASequenceDataset

__all__ = [
    'AVEmotionDataset', 'AffWild2VADataset', 'BadSampleError', 'ClipCache',
    'BaseMoseiDataset', 'CremaDDataset', 'MoseiCsdDataset',
    'MoseiPickleDataset', 'MoseiRawDataset', 'RavdessDataset', 'RecolaDataset',
    'SeededSampler', 'SyntheticAVDataset', 'SyntheticVADataset',
    'VASequenceDataset'
]
