# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmemo.registry import MODELS


@MODELS.register_module()
class SentimentEmotionLoss(nn.Module):
    """CMU-MOSEI's two tasks on one head output: sentiment regression and
    multi-label emotion presence.

    The head predicts ``[sentiment, 6 emotion logits]`` per sample; the
    target is the label vector ``[sentiment, happy, sad, anger, surprise,
    disgust, fear]`` (emotion intensities in [0, 3]).

    - ``loss_sentiment``: L1 between the first output and the sentiment
      (MMSA's regression loss, ``nn.L1Loss``), times ``sentiment_weight``;
    - ``loss_emotion``: binary cross-entropy with logits between the other
      outputs and the emotions' presence (intensity > 0), averaged over the
      given (non-NaN) targets, times ``emotion_weight``. Without emotion
      targets (the MMSA pickles: NaN) it is 0, still in the graph.

    A head with a single output trains sentiment only.

    Args:
        sentiment_weight (float): Factor of the L1 term. Defaults to 1.
        emotion_weight (float): Factor of the BCE term (0 = sentiment
            only). Defaults to 1.
    """

    def __init__(self,
                 sentiment_weight: float = 1.0,
                 emotion_weight: float = 1.0) -> None:
        super().__init__()
        self.sentiment_weight = sentiment_weight
        self.emotion_weight = emotion_weight

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the losses.

        Args:
            pred (Tensor): ``[B, 1 + E]`` sentiment and emotion logits.
            target (Tensor): ``[B, 7]`` label vectors (mmaction's
                ``BaseHead`` squeezes a batch of one to ``[7]``).

        Returns:
            dict: ``loss_sentiment`` and, with emotion outputs,
            ``loss_emotion``.
        """
        target = target.reshape(pred.shape[0], -1).to(pred)  # [B, 7]
        losses = dict(loss_sentiment=self.sentiment_weight *
                      F.l1_loss(pred[:, 0], target[:, 0]))
        if pred.shape[1] > 1:
            emotions = pred.shape[1] - 1
            logits = pred[:, 1:]  # [B, E]
            intensity = target[:, 1:]  # [B, E]
            if intensity.shape[1] != emotions:
                raise ValueError(
                    f'{emotions} emotion outputs but {intensity.shape[1]} '
                    'emotion targets per sample')
            given = ~torch.isnan(intensity)  # [B, E]
            if given.any():
                bce = F.binary_cross_entropy_with_logits(
                    logits[given], (intensity[given] > 0).to(pred))
            else:
                bce = logits.sum() * 0
            losses['loss_emotion'] = self.emotion_weight * bce
        return losses
