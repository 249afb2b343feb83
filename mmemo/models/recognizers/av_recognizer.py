# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
from mmaction.models.recognizers import BaseRecognizer
from mmaction.utils import ConfigType, OptConfigType, SampleList

from mmemo.registry import MODELS
from ..backbones.token_encoder import in_own_scope
from .modality_dropout import modality_dropout


@MODELS.register_module()
class AVRecognizer(BaseRecognizer):
    """Audio-visual recognizer: one encoder per modality and a fusion head.

    ``inputs`` is a dict with ``video`` ``[B, clips, C, T, H, W]`` and
    ``audio`` ``[B, clips, 1, T, F]`` (as ``PackAVInputs`` and mmaction's
    ``MultiModalDataPreprocessor`` produce). The visual encoder (stored as
    ``backbone``, so mmaction's ``torchvision.``/``timm.`` prefixes work)
    and the optional audio encoder turn them into ``[B, T, C]`` tokens —
    without an audio encoder the feature frames themselves are the tokens —
    and the head fuses them.

    ``train_cfg=dict(modality_dropout='softhard'|'noise')`` enlarges each
    training batch with degraded modalities (see :func:`modality_dropout`).
    ``test_cfg=dict(modality_scores=True)`` also scores each modality alone
    (the other one zeroed), so ``pred_score`` becomes
    ``{'fusion': ..., 'audio': ..., 'video': ...}``.

    Args:
        visual_encoder (dict): Visual encoder, e.g. ``EfficientFace`` or a
            ``TokenEncoder`` around an MMAction2 backbone.
        fusion_head (dict): Fusion head, e.g. ``AVTCAHead``.
        audio_encoder (dict, optional): Audio encoder; None uses the
            feature frames as tokens.
        data_preprocessor (dict, optional): Usually mmaction's
            ``MultiModalDataPreprocessor``.
        train_cfg (dict, optional): ``modality_dropout``.
        test_cfg (dict, optional): ``modality_scores``.
    """

    def __init__(self,
                 visual_encoder: ConfigType,
                 fusion_head: ConfigType,
                 audio_encoder: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None) -> None:
        super().__init__(
            backbone=in_own_scope(visual_encoder),
            cls_head=fusion_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.audio_encoder = MODELS.build(in_own_scope(audio_encoder)) \
            if audio_encoder else None

    def extract_feat(self,
                     inputs: Dict[str, torch.Tensor],
                     stage: str = 'backbone',
                     **kwargs) -> tuple:
        """Encode both modalities into token sequences.

        Args:
            inputs (dict): ``video`` and ``audio`` tensors.
            stage (str): ``'backbone'`` returns the tokens, ``'head'`` the
                class scores.

        Returns:
            tuple: ``dict(audio=[B·clips, T_a, C_a], video=[B·clips, T_v,
            C_v])`` (or the scores) and an empty kwargs dict.
        """
        video = inputs['video'].flatten(0, 1)  # [B*clips, C, T, H, W]
        audio = inputs['audio'].flatten(0, 1)  # [B*clips, 1, T, F]
        assert video.shape[0] == audio.shape[0], \
            'audio and video need the same number of clips'
        if self.audio_encoder is None:
            audio_tokens = audio.flatten(1, -2)  # [B*clips, T, F]
        else:
            audio_tokens = self.audio_encoder(audio)  # [B*clips, T', C]
        feats = dict(audio=audio_tokens, video=self.backbone(video))
        if stage == 'head':
            return self.cls_head(feats), {}
        return feats, {}

    def loss(self, inputs: Dict[str, torch.Tensor], data_samples: SampleList,
             **kwargs) -> dict:
        """Losses of a training batch (after modality dropout, if set)."""
        mode = (self.train_cfg or {}).get('modality_dropout')
        if mode:
            inputs, data_samples = modality_dropout(inputs, data_samples, mode)
        feats, _ = self.extract_feat(inputs)
        return self.cls_head.loss(feats, data_samples)

    def _scores(self, inputs: Dict[str, torch.Tensor],
                num_samples: int) -> torch.Tensor:
        scores, _ = self.extract_feat(inputs, stage='head')
        return self.cls_head.average_clip(
            scores, num_segs=scores.shape[0] // num_samples)  # [B, classes]

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: SampleList, **kwargs) -> SampleList:
        """Predict class scores (per modality too, if configured)."""
        scores = dict(fusion=self._scores(inputs, len(data_samples)))
        if (self.test_cfg or {}).get('modality_scores'):
            for keep, drop in (('audio', 'video'), ('video', 'audio')):
                alone = dict(inputs, **{drop: torch.zeros_like(inputs[drop])})
                scores[keep] = self._scores(alone, len(data_samples))
        for i, sample in enumerate(data_samples):
            sample_scores = {k: v[i] for k, v in scores.items()}
            sample.set_pred_score(
                sample_scores if len(scores) > 1 else sample_scores['fusion'])
            sample.set_pred_label(sample_scores['fusion'].argmax(keepdim=True))
        return data_samples
