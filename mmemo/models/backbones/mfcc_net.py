# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmemo.registry import MODELS


@MODELS.register_module()
class MFCCNet(BaseModule):
    """MSAF's 1-D CNN on MFCCs, the audio encoder of MSAF and CFN-SR.

    Su, Hu et al., "MSAF: Multimodal Split Attention Fusion" (github.com/
    anita-hu/MSAF, ``ravdess/``), reused by CFN-SR. Three blocks over time,
    the MFCC coefficients as channels:

    - ``conv1``: Conv1d(13 → 32, k7, p2) → ReLU → BN;
    - ``conv2``: Conv1d(32 → 32, k7, p2) → ReLU → MaxPool(8) → BN →
      Dropout(0.2);
    - ``conv3``: Conv1d(32 → 64, k5, p2) → ReLU → BN.

    13 MFCCs × 212 frames (2.45 s at 44.1 kHz, hop 512) give ``[B, 64,
    26]`` (212 → 210 → 208 → 26 → 26). No classifier: the fusion head
    flattens the map itself. 20,704 parameters.

    Args:
        in_channels (int): MFCC coefficients. Defaults to 13.
        channels (Sequence[int]): Output channels of the three convs.
            Defaults to ``(32, 32, 64)``.
        kernel_sizes (Sequence[int]): Their kernels. Defaults to
            ``(7, 7, 5)``.
        padding (int): Padding of every conv. Defaults to 2.
        pool (int): Max-pool size (and stride) in ``conv2``.
            Defaults to 8.
        dropout (float): Dropout at the end of ``conv2``. Defaults to 0.2.
        init_cfg (dict, optional): Initialisation config; None keeps
            PyTorch's defaults, as MSAF.
    """

    def __init__(self,
                 in_channels: int = 13,
                 channels: Sequence[int] = (32, 32, 64),
                 kernel_sizes: Sequence[int] = (7, 7, 5),
                 padding: int = 2,
                 pool: int = 8,
                 dropout: float = 0.2,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(channels) != 3 or len(kernel_sizes) != 3:
            raise ValueError('MFCCNet has three convs: give 3 channels and '
                             f'3 kernel sizes, got {channels} and '
                             f'{kernel_sizes}')
        self.in_channels = in_channels
        self.out_channels = channels[2]
        c1, c2, c3 = channels
        k1, k2, k3 = kernel_sizes
        self.conv1 = nn.Sequential(
            nn.Conv1d(in_channels, c1, k1, padding=padding), nn.ReLU(),
            nn.BatchNorm1d(c1))
        self.conv2 = nn.Sequential(
            nn.Conv1d(c1, c2, k2, padding=padding), nn.ReLU(),
            nn.MaxPool1d(pool), nn.BatchNorm1d(c2), nn.Dropout(dropout))
        self.conv3 = nn.Sequential(
            nn.Conv1d(c2, c3, k3, padding=padding), nn.ReLU(),
            nn.BatchNorm1d(c3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode MFCCs.

        Args:
            x (Tensor): ``[B, 1, T, n_mfcc]`` (mmemo's packed audio features,
                time-major) or ``[B, n_mfcc, T]`` (MSAF's layout).

        Returns:
            Tensor: ``[B, 64, T']`` (channels first; ``[B, 64, 26]`` for
            ``T = 212``).
        """
        if x.dim() == 4 and x.shape[1] == 1:
            x = x[:, 0].transpose(1, 2)  # [B, n_mfcc, T]
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'MFCCNet expects [B, 1, T, {self.in_channels}] or '
                f'[B, {self.in_channels}, T] MFCCs, got {tuple(x.shape)}')
        x = self.conv1(x)  # [B, 32, T - 2]
        x = self.conv2(x)  # [B, 32, (T - 4) / 8]
        return self.conv3(x)  # [B, 64, (T - 4) / 8]
