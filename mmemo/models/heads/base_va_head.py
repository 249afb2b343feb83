# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, List

import torch
import torch.nn as nn
from mmaction.utils import ConfigType, SampleList
from mmengine.model import BaseModule

from mmemo.registry import MODELS


class VARegressor(nn.Module):
    """The per-time-step regressor of JCA/JMT: ``FC(D -> hidden) ->
    [ReLU] -> Dropout -> FC(hidden -> 1)``.

    Args:
        in_channels (int): Input size D.
        hidden (int): Hidden size. Defaults to 128.
        dropout (float): Dropout before the last FC. Defaults to 0.6.
        activation (bool): ReLU after the first FC (JMT, JCA's CAM); JCA's
            paper block has none. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 hidden: int = 128,
                 dropout: float = 0.6,
                 activation: bool = True) -> None:
        super().__init__()
        layers = [nn.Linear(in_channels, hidden)]
        if activation:
            layers.append(nn.ReLU(inplace=True))
        layers += [nn.Dropout(dropout), nn.Linear(hidden, 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)  # [B, L]


class BaseVAHead(BaseModule):
    """Base of the sequence-to-sequence valence/arousal fusion heads.

    A head takes ``feats = dict(audio=[B, L, ...], video=[B, L, ...])``,
    one feature per sub-clip, and returns ``[B, L, 2]`` (valence, arousal
    of each sub-clip). Targets come from the data samples' ``gt_va``
    ``[L, 2]`` and ``va_mask`` ``[L]`` (False = unannotated or padding);
    predictions go to ``pred_va`` ``[L, 2]``.

    Args:
        loss (dict): The loss, called as ``loss(pred, target, mask)``.
            Defaults to ``dict(type='CCCLoss')``.
        init_cfg (dict or list, optional): Initialisation.
    """

    def __init__(self,
                 loss: ConfigType = dict(type='CCCLoss'),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Fuse the sub-clip features into ``[B, L, 2]``."""
        raise NotImplementedError

    @staticmethod
    def stack_targets(data_samples: SampleList) -> List[torch.Tensor]:
        """``gt_va`` ``[B, L, 2]`` and ``va_mask`` ``[B, L]`` of a batch."""
        gt = torch.stack([s.gt_va for s in data_samples])  # [B, L, 2]
        mask = torch.stack([s.va_mask.bool() for s in data_samples])  # [B, L]
        return gt, mask

    def loss(self, feats: Dict[str, torch.Tensor],
             data_samples: SampleList) -> dict:
        """The loss of a batch."""
        pred = self(feats)  # [B, L, 2]
        gt, mask = self.stack_targets(data_samples)
        return dict(loss_ccc=self.loss_module(pred, gt.to(pred), mask))

    def predict(self, feats: Dict[str, torch.Tensor],
                data_samples: SampleList) -> SampleList:
        """Set ``pred_va`` ``[L, 2]`` on each sample."""
        pred = self(feats)  # [B, L, 2]
        for sample, value in zip(data_samples, pred):
            sample.set_field(value.float(), 'pred_va')
        return data_samples
