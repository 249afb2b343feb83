# Copyright (c) mmemo contributors. All rights reserved.
from .attention_pool import AdditiveAttentionPool
from .cross_attention import CrossAttention
from .positional_encoding import (SinusoidalPositionalEncoding,
                                  sinusoidal_positions)
from .temporal_reduce import TemporalReduce
from .transformer_layer import TransformerEncoderLayer

__all__ = [
    'AdditiveAttentionPool', 'CrossAttention', 'SinusoidalPositionalEncoding',
    'TemporalReduce', 'TransformerEncoderLayer', 'sinusoidal_positions'
]
