# Copyright (c) mmemo contributors. All rights reserved.
import math

import torch
import torch.nn as nn

from mmemo.registry import MODELS


def sinusoidal_positions(length: int,
                         dim: int,
                         style: str = 'vaswani') -> torch.Tensor:
    """Fixed sine/cosine positions.

    - ``'vaswani'`` (Vaswani et al., 2017): positions 0, 1, ...; channel
      ``2i`` is ``sin(p / 10000^(2i/dim))``, ``2i+1`` its cosine;
    - ``'fairseq'`` (fairseq's ``SinusoidalPositionalEmbedding``, used by
      MulT and so by CFN-SR's audio transformer): positions 1, 2, ... (0 is
      fairseq's padding index); the first ``dim/2`` channels are
      ``sin(p / 10000^(i/(dim/2 - 1)))``, the last ``dim/2`` the cosines
      (a zero channel is appended for an odd ``dim``).

    Args:
        length (int): Number of positions.
        dim (int): Embedding size (even for ``'vaswani'``).
        style (str): ``'vaswani'`` or ``'fairseq'``.
            Defaults to ``'vaswani'``.

    Returns:
        Tensor: ``[length, dim]``.
    """
    if style == 'fairseq':
        half = dim // 2
        if half < 2:
            raise ValueError("style='fairseq' needs dim >= 4, got "
                             f'{dim}')
        freq = torch.exp(
            torch.arange(half, dtype=torch.float32) *
            (-math.log(10000.0) / (half - 1)))  # [dim / 2]
        position = torch.arange(
            1, length + 1, dtype=torch.float32)[:, None]  # [L, 1]
        angle = position * freq  # [L, dim / 2]
        table = torch.cat([angle.sin(), angle.cos()], dim=1)  # [L, 2 half]
        if dim % 2:
            table = torch.cat([table, torch.zeros(length, 1)], dim=1)
        return table  # [L, dim]
    if style != 'vaswani':
        raise ValueError("style must be 'vaswani' or 'fairseq', got "
                         f'{style!r}')
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
        style (str): The table, ``'vaswani'`` or ``'fairseq'`` (MulT's,
            see :func:`sinusoidal_positions`). Defaults to ``'vaswani'``.
    """

    def __init__(self,
                 dim: int,
                 max_len: int = 4096,
                 scale: bool = False,
                 style: str = 'vaswani') -> None:
        super().__init__()
        self.scale = math.sqrt(dim) if scale else 1.0
        self.register_buffer(
            'table',
            sinusoidal_positions(max_len, dim, style),
            persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (Tensor): ``[B, N, dim]``. Returns: ``[B, N, dim]``."""
        return x * self.scale + self.table[:x.shape[1]]
