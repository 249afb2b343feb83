# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmaction.utils import ConfigType, SampleList
from mmengine.model import BaseModule

from mmemo.registry import MODELS

#: ``feats`` entries named ``<stream>`` + this suffix hold a stream's
#: key-padding mask, bool ``[B, N]``, True = pad.
PADDING_MASK_SUFFIX = '_padding_mask'


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

    Streams may come with key-padding masks: the data samples'
    ``padding_masks`` field (one bool ``[N]`` per stream, True = a padded
    token, packed by ``PackAVInputs(padding_masks=dict(text=...))``) is
    stacked into ``feats['<stream>_padding_mask']`` ``[B, N]`` before
    :meth:`forward` (:meth:`with_padding_masks`); heads that do not read
    them ignore the extra entries.

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
    def with_padding_masks(
            feats: Dict[str, torch.Tensor],
            data_samples: Optional[SampleList]) -> Dict[str, torch.Tensor]:
        """Add the samples' ``padding_masks`` to ``feats``.

        Args:
            feats (dict): The stream features ``[B, N, ...]``.
            data_samples (list, optional): The batch's data samples; their
                ``padding_masks`` field (see ``PackAVInputs``) holds a bool
                ``[N]`` per masked stream.

        Returns:
            dict: ``feats`` (a copy when masks were added) with
            ``<stream>_padding_mask`` bool ``[B, N]`` per masked stream;
            entries already in ``feats`` are kept.
        """
        if not data_samples:
            return feats
        # a stale config would silently train without its masks
        misplaced = [
            k for k in data_samples[0].keys()
            if k.endswith(PADDING_MASK_SUFFIX)
        ]
        if misplaced:
            raise ValueError(
                f'data-sample fields {misplaced}: a padding mask is not a '
                'target; pack it with PackAVInputs(padding_masks=dict('
                '<stream>=<results key>))')
        if 'padding_masks' not in data_samples[0]:
            return feats
        streams = [
            s for s in data_samples[0].padding_masks.keys()
            if s + PADDING_MASK_SUFFIX not in feats
        ]
        if not streams:
            return feats
        device = next(iter(feats.values())).device
        feats = dict(feats)
        for stream in streams:
            feats[stream + PADDING_MASK_SUFFIX] = torch.stack([
                s.padding_masks.get(stream).bool() for s in data_samples
            ]).to(device)  # [B, N]
        return feats

    @staticmethod
    def stack_targets(data_samples: SampleList) -> List[torch.Tensor]:
        """``gt_va`` ``[B, L, 2]`` and ``va_mask`` ``[B, L]`` of a batch."""
        gt = torch.stack([s.gt_va for s in data_samples])  # [B, L, 2]
        mask = torch.stack([s.va_mask.bool() for s in data_samples])  # [B, L]
        return gt, mask

    def loss(self, feats: Dict[str, torch.Tensor],
             data_samples: SampleList) -> dict:
        """The loss of a batch."""
        pred = self(self.with_padding_masks(feats, data_samples))  # [B,L,2]
        gt, mask = self.stack_targets(data_samples)
        return dict(loss_ccc=self.loss_module(pred, gt.to(pred), mask))

    def predict(self, feats: Dict[str, torch.Tensor],
                data_samples: SampleList) -> SampleList:
        """Set ``pred_va`` ``[L, 2]`` on each sample."""
        pred = self(self.with_padding_masks(feats, data_samples))  # [B,L,2]
        for sample, value in zip(data_samples, pred):
            sample.set_field(value.float(), 'pred_va')
        return data_samples
