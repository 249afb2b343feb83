# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
import torch.nn as nn
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from .base_va_head import BaseVAHead, VARegressor


@MODELS.register_module()
class ConcatVAHead(BaseVAHead):
    """Concatenation + FC: JMT's early-fusion baseline (``FC`` ablation,
    0.66M parameters at 512-d inputs).

    Per sub-clip, ``[video; audio]`` goes through ``FC -> ReLU`` and the
    valence and arousal regressors (``FC(D -> 128) -> ReLU -> Dropout ->
    FC(128 -> 1)``). No temporal mixing: each sub-clip is predicted from its
    own features. mmemo also uses it to train sub-clip encoders end to end
    before JCA/JMT fuse their frozen, cached features (JMT's two-stage
    recipe).

    Args:
        audio_channels (int): Audio feature size. Defaults to 512.
        video_channels (int): Video feature size. Defaults to 512.
        hidden (int): Size after the fusion FC. Defaults to 512.
        dropout (float): Dropout of the regressors. Defaults to 0.6.
        l2_normalize (bool): L2-normalise each stream first (as JMT does).
            Defaults to False.
        loss (dict): The loss. Defaults to ``dict(type='CCCLoss')``.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 audio_channels: int = 512,
                 video_channels: int = 512,
                 hidden: int = 512,
                 dropout: float = 0.6,
                 l2_normalize: bool = False,
                 loss: ConfigType = dict(type='CCCLoss'),
                 init_cfg=None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        self.l2_normalize = l2_normalize
        self.fuse = nn.Sequential(
            nn.Linear(audio_channels + video_channels, hidden),
            nn.ReLU(inplace=True))
        self.valence = VARegressor(hidden, 128, dropout)
        self.arousal = VARegressor(hidden, 128, dropout)

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Fuse ``audio`` ``[B, L, D_a]`` and ``video`` ``[B, L, D_v]``.

        Returns:
            Tensor: ``[B, L, 2]`` valence and arousal.
        """
        audio = feats['audio'].flatten(2)  # [B, L, D_a]
        video = feats['video'].flatten(2)  # [B, L, D_v]
        if self.l2_normalize:
            audio = nn.functional.normalize(audio, dim=-1)  # [B, L, D_a]
            video = nn.functional.normalize(video, dim=-1)  # [B, L, D_v]
        x = self.fuse(torch.cat([video, audio], -1))  # [B, L, hidden]
        return torch.stack([self.valence(x), self.arousal(x)], -1)  # [B,L,2]
