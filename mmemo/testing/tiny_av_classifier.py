# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.utils import ConfigType, OptConfigType, OptSampleList
from mmengine.model import BaseModel

from mmemo.registry import MODELS


@MODELS.register_module()
class TinyAVClassifier(BaseModel):
    """A tiny two-stream classifier for tool and pipeline smoke runs.

    The video is averaged over clips, time and space to one value per
    channel, the audio over clips and time to one value per frequency bin;
    each is projected by a linear layer with ReLU, and the concatenated
    projections are classified. No dropout and no batch norm, so a run on
    two processes follows the same trajectory as one process with the same
    total batch size.

    Args:
        video_channels (int): Channels of the video input.
        audio_features (int): Frequency bins of the audio input.
        num_classes (int): Number of classes.
        hidden_channels (int): Width of each projection. Defaults to 16.
        loss_cls (dict or ConfigDict): Classification loss. Defaults to
            ``dict(type='mmaction.CrossEntropyLoss')``.
        data_preprocessor (dict or ConfigDict, optional): The
            pre-processor, usually mmaction's ``MultiModalDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 video_channels: int,
                 audio_features: int,
                 num_classes: int,
                 hidden_channels: int = 16,
                 loss_cls: ConfigType = dict(type='mmaction.CrossEntropyLoss'),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.video_proj = nn.Linear(video_channels, hidden_channels)
        self.audio_proj = nn.Linear(audio_features, hidden_channels)
        self.fc_cls = nn.Linear(2 * hidden_channels, num_classes)
        self.loss_cls = MODELS.build(loss_cls)

    def extract_feat(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Pool and project both modalities.

        Args:
            inputs (dict[str, Tensor]): ``video`` ``[N, clips, C, T, H, W]``
                and ``audio`` ``[N, clips, 1, T, F]``.

        Returns:
            Tensor: Fused features ``[N, 2 * hidden_channels]``.
        """
        video = inputs['video'].flatten(3).mean(dim=(1, 3))  # [N, C]
        audio = inputs['audio'].mean(dim=(1, 2, 3))  # [N, F]
        video = F.relu(self.video_proj(video))  # [N, hidden]
        audio = F.relu(self.audio_proj(audio))  # [N, hidden]
        return torch.cat([video, audio], dim=1)  # [N, 2 * hidden]

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                data_samples: OptSampleList = None,
                mode: str = 'tensor'):
        """Return class scores, losses or predictions, as mmaction does.

        Args:
            inputs (dict[str, Tensor]): See :meth:`extract_feat`.
            data_samples (list[ActionDataSample], optional): Samples with
                ``gt_label`` (``loss``) or to fill (``predict``).
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.

        Returns:
            Tensor | dict | list: Class scores ``[N, num_classes]``, a dict
            with ``loss_cls``, or the data samples with ``pred_score`` and
            ``pred_label`` set.
        """
        cls_scores = self.fc_cls(self.extract_feat(inputs))  # [N, classes]
        if mode == 'tensor':
            return cls_scores
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples])  # [N]
            return dict(loss_cls=self.loss_cls(cls_scores, labels))
        if mode == 'predict':
            scores = cls_scores.softmax(dim=1)  # [N, classes]
            for data_sample, score in zip(data_samples, scores):
                data_sample.set_pred_score(score)
                data_sample.set_pred_label(score.argmax(keepdim=True))
            return data_samples
        raise RuntimeError(f'Invalid mode "{mode}". '
                           'Only supports loss, predict and tensor mode')
