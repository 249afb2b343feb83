# Copyright (c) mmemo contributors. All rights reserved.
import math

import torch
import torch.nn as nn

from mmemo.registry import MODELS


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """The fixed sine/cosine positions of Vaswani et al. (2017).

    Args:
        length (int): Number of positions.
        dim (int): Embedding size (even).

    Returns:
        Tensor: ``[length, dim]``.
    """
    position = torch.arange(length, dtype=torch.float32)[:, None]  # [L, 1]
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32) *
        (-math.log(10000.0) / dim))  # [dim / 2]
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)
    return table  # [L, dim]


@MODELS.register_module()
class SinusoidalPositionalEncoding(nn.Module):
    """Add fixed sinusoidal positions to a token sequence.

    Args:
        dim (int): Token size.
        max_len (int): Longest sequence. Defaults to 4096.
        scale (bool): Multiply the tokens by ``sqrt(dim)`` first, as the
            original transformer (and CFN-SR's audio encoder) does.
            Defaults to False.
    """

    def __init__(self,
                 dim: int,
                 max_len: int = 4096,
                 scale: bool = False) -> None:
        super().__init__()
        self.scale = math.sqrt(dim) if scale else 1.0
        self.register_buffer(
            'table', sinusoidal_positions(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (Tensor): ``[B, N, dim]``. Returns: ``[B, N, dim]``."""
        return x * self.scale + self.table[:x.shape[1]]
