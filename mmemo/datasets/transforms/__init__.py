# Copyright (c) mmemo contributors. All rights reserved.
from .add_audio_noise import AddAudioNoise
from .av_clip_window import AVClipWindow
from .av_decode import AVDecode
from .av_init import AVInit
from .blur_frames import BlurFrames
from .clip_cache_pipeline import ClipCachePipeline
from .crop_person_side import CropPersonSide
from .drop_frames import DropFrames
from .face_crop import FaceCrop
from .kaldi_fbank import KaldiFbank
from .load_audio import LoadAudio
from .load_face_frames import LoadFaceFrames
from .load_sequence_features import LoadSequenceFeatures
from .load_sub_clip_features import LoadSubClipFeatures
from .log_mel_spectrogram import LogMelSpectrogram
from .mfcc import MFCC
from .missing_modalities import MissingModalities
from .normalize_audio import NormalizeAudio
from .pack_av_inputs import PackAVInputs
from .per_frame import PerFrame
from .random_rotation import RandomRotation
from .sample_aligned_audio import SampleAlignedAudio
from .sample_sub_clips import SampleSubClips
from .shift_audio import ShiftAudio
from .spec_augment import SpecAugment
from .sub_clip_audio import SubClipAudio

__all__ = [
    'AddAudioNoise', 'AVClipWindow', 'AVDecode', 'AVInit', 'BlurFrames',
    'ClipCachePipeline', 'CropPersonSide', 'DropFrames', 'FaceCrop',
    'KaldiFbank', 'LoadAudio', 'LoadFaceFrames', 'LoadSequenceFeatures',
    'LoadSubClipFeatures', 'LogMelSpectrogram', 'MFCC', 'MissingModalities',
    'NormalizeAudio', 'PackAVInputs', 'PerFrame', 'RandomRotation',
    'SampleAlignedAudio', 'SampleSubClips', 'ShiftAudio', 'SpecAugment',
    'SubClipAudio'
]
