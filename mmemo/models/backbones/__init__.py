# Copyright (c) mmemo contributors. All rights reserved.
from .audio_resnet_encoder import AudioResNet18Encoder
from .efficientface import EfficientFace
from .hf_text_encoder import HFTextEncoder
from .identity_encoder import IdentityEncoder
from .r2plus1d_encoder import R2Plus1D18Encoder
from .token_encoder import TokenEncoder

__all__ = [
    'AudioResNet18Encoder', 'EfficientFace', 'HFTextEncoder',
    'IdentityEncoder', 'R2Plus1D18Encoder', 'TokenEncoder'
]
