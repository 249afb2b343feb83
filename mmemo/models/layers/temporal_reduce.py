# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn

from mmemo.registry import MODELS


@MODELS.register_module()
class TemporalReduce(nn.Module):
    """Reduce a token sequence over time, respecting padding.

    Args:
        mode (str): ``'mean'`` (AVT-CA, MAVEN), ``'max'``, ``'last'``
            (CFN-SR's audio transformer) or ``'none'`` (sequence output,
            JCA/JMT). Defaults to ``'mean'``.
    """

    def __init__(self, mode: str = 'mean') -> None:
        super().__init__()
        assert mode in ('mean', 'max', 'last', 'none'), mode
        self.mode = mode

    def forward(self,
                x: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args: x ``[B, T, C]``, padding_mask bool ``[B, T]`` (True = pad).

        Returns:
            Tensor: ``[B, C]`` (or ``x`` itself for ``'none'``).
        """
        if self.mode == 'none':
            return x
        valid = None if padding_mask is None else ~padding_mask  # [B, T]
        if self.mode == 'mean':
            if valid is None:
                return x.mean(dim=1)  # [B, C]
            weights = valid.unsqueeze(-1).to(x.dtype)  # [B, T, 1]
            return (x * weights).sum(1) / weights.sum(1).clamp(min=1)
        if self.mode == 'max':
            if valid is not None:
                x = x.masked_fill(~valid.unsqueeze(-1), float('-inf'))
            return x.max(dim=1).values  # [B, C]
        if valid is None:
            return x[:, -1]  # [B, C]
        last = valid.long().cumsum(1).argmax(1)  # index of the last valid
        return x[torch.arange(x.shape[0]), last]  # [B, C]
