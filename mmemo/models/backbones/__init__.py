# Copyright (c) mmemo contributors. All rights reserved.
from .audio_resnet_encoder import AudioResNet18Encoder
from .efficientface import EfficientFace
from .hf_text_encoder import HFTextEncoder
from .identity_encoder import IdentityEncoder
from .mfcc_net import MFCCNet
from .r2plus1d_encoder import R2Plus1D18Encoder
from .resnext3d import ResNeXt3D
from .token_encoder import TokenEncoder

__all__ = [
    'AudioResNet18Encoder', 'EfficientFace', 'HFTextEncoder',
    'IdentityEncoder', 'MFCCNet', 'R2Plus1D18Encoder', 'ResNeXt3D',
    'TokenEncoder'
]
