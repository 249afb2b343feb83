# Copyright (c) mmemo contributors. All rights reserved.
from .efficientface import EfficientFace
from .token_encoder import TokenEncoder

__all__ = ['EfficientFace', 'TokenEncoder']
