# Copyright (c) mmemo contributors. All rights reserved.
from .av_clip_window import AVClipWindow
from .av_decode import AVDecode
from .av_init import AVInit
from .face_crop import FaceCrop
from .kaldi_fbank import KaldiFbank
from .load_audio import LoadAudio
from .log_mel_spectrogram import LogMelSpectrogram
from .mfcc import MFCC
from .normalize_audio import NormalizeAudio
from .pack_av_inputs import PackAVInputs
from .random_rotation import RandomRotation
from .sample_aligned_audio import SampleAlignedAudio
from .spec_augment import SpecAugment

__all__ = [
    'AVClipWindow', 'AVDecode', 'AVInit', 'FaceCrop', 'KaldiFbank',
    'LoadAudio', 'LogMelSpectrogram', 'MFCC', 'NormalizeAudio', 'PackAVInputs',
    'RandomRotation', 'SampleAlignedAudio', 'SpecAugment'
]
