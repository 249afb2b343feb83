# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.model import BaseModule

from mmemo.registry import MODELS


@MODELS.register_module()
class IdentityEncoder(BaseModule):
    """Pre-extracted feature frames used as the tokens themselves.

    The encoder of a modality whose inputs already are ``[B, T, C]``
    feature sequences, e.g. CMU-MOSEI's 35-d FACET frames as AVT-CA's video
    tokens: no visual CNN runs. ``in_channels`` makes a wrong feature file
    fail with a clear message instead of a shape error deep in the head.

    Args:
        in_channels (int, optional): The expected feature size ``C``,
            checked. Defaults to None (not checked).
    """

    def __init__(self, in_channels: Optional[int] = None) -> None:
        super().__init__()
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the feature frames as they are.

        Args:
            x (Tensor): ``[B, T, C]`` feature frames.

        Returns:
            Tensor: The same ``[B, T, C]`` tensor.
        """
        if x.ndim != 3 or (self.in_channels is not None
                           and x.shape[-1] != self.in_channels):
            raise ValueError(
                f'IdentityEncoder expects [B, T, {self.in_channels or "C"}] '
                f'feature frames, got {tuple(x.shape)}')
        return x
