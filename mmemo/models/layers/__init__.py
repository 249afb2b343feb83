# Copyright (c) mmemo contributors. All rights reserved.
from .attention_pool import AdditiveAttentionPool
from .cross_attention import CrossAttention
from .joint_cross_attention import DenseCoAttention, JointCrossAttention
from .polar import angular_difference, to_va, va_to_polar
from .positional_encoding import (SinusoidalPositionalEncoding,
                                  sinusoidal_positions)
from .temporal_reduce import TemporalReduce
from .transformer_layer import TransformerEncoderLayer

__all__ = [
    'AdditiveAttentionPool', 'CrossAttention', 'DenseCoAttention',
    'JointCrossAttention', 'SinusoidalPositionalEncoding', 'TemporalReduce',
    'TransformerEncoderLayer', 'angular_difference', 'sinusoidal_positions',
    'to_va', 'va_to_polar'
]
