# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
from mmaction.models.recognizers import BaseRecognizer
from mmaction.utils import ConfigType, OptConfigType, SampleList

from mmemo.registry import MODELS
from ..utils import in_own_scope, to_channels_last
from .modality_dropout import modality_dropout, zero_missing_modalities


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
    ``{'fusion': ..., 'audio': ..., 'video': ...}``. A sample's
    ``missing_modalities`` (metainfo) are zeroed in the input first.

    ``modality_level`` (in ``train_cfg`` and ``test_cfg``) says where a
    modality is degraded or zeroed: ``'input'`` (the official AVT-CA code:
    the encoders run on every copy, 4x the visual encoder's cost for
    ``'softhard'``) or ``'tokens'`` (the encoders' outputs: they run once
    per clip, so training and per-modality scoring cost about what plain
    training and testing do).

    Args:
        visual_encoder (dict): Visual encoder, e.g. ``EfficientFace`` or a
            ``TokenEncoder`` around an MMAction2 backbone.
        fusion_head (dict): Fusion head, e.g. ``AVTCAHead``.
        audio_encoder (dict, optional): Audio encoder; None uses the
            feature frames as tokens.
        data_preprocessor (dict, optional): Usually mmaction's
            ``MultiModalDataPreprocessor``.
        train_cfg (dict, optional): ``modality_dropout`` and
            ``modality_level`` (default ``'input'``).
        test_cfg (dict, optional): ``modality_scores`` and
            ``modality_level`` (default ``'input'``).
        channels_last (bool): Keep the convolution weights channels-last
            (:func:`~mmemo.models.utils.to_channels_last`): the same
            function up to float rounding, and PyTorch's channels-last
            convolution kernels (a CPU training step of the synthetic
            AVT-CA and CFN-SR configs about 0.8x). Defaults to False.
    """

    def __init__(self,
                 visual_encoder: ConfigType,
                 fusion_head: ConfigType,
                 audio_encoder: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 channels_last: bool = False) -> None:
        super().__init__(
            backbone=in_own_scope(visual_encoder),
            cls_head=fusion_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.audio_encoder = MODELS.build(in_own_scope(audio_encoder)) \
            if audio_encoder else None
        self.channels_last = channels_last
        if channels_last:
            to_channels_last(self)

    def init_weights(self) -> None:
        """Initialise the weights (keeping the channels-last layout)."""
        super().init_weights()
        if self.channels_last:  # an initialiser may have replaced tensors
            to_channels_last(self)

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
        assert inputs['video'].shape[:2].numel() == \
            inputs['audio'].shape[:2].numel(), \
            'audio and video need the same number of clips'
        feats = dict(
            audio=self._encode(inputs, 'audio'),
            video=self._encode(inputs, 'video'))
        if stage == 'head':
            return self.cls_head(feats), {}
        return feats, {}

    def _encode(self, inputs: Dict[str, torch.Tensor],
                modality: str) -> torch.Tensor:
        """Tokens of one modality: ``[B*clips, T, C]``."""
        x = inputs[modality].flatten(0, 1)
        if modality == 'video':
            return self.backbone(x)  # x: [B*clips, C, T, H, W]
        if self.audio_encoder is None:
            return x.flatten(1, -2)  # x: [B*clips, 1, T, F] -> [., T, F]
        return self.audio_encoder(x)  # [B*clips, T', C]

    @staticmethod
    def _level(cfg: OptConfigType) -> str:
        level = (cfg or {}).get('modality_level', 'input')
        assert level in ('input', 'tokens'), \
            f"modality_level must be 'input' or 'tokens', got {level!r}"
        return level

    def loss(self, inputs: Dict[str, torch.Tensor], data_samples: SampleList,
             **kwargs) -> dict:
        """Losses of a training batch (after modality dropout, if set)."""
        inputs = zero_missing_modalities(inputs, data_samples)
        mode = (self.train_cfg or {}).get('modality_dropout')
        level = self._level(self.train_cfg)
        if mode and level == 'input':
            inputs, data_samples = modality_dropout(inputs, data_samples, mode)
        feats, _ = self.extract_feat(inputs)
        if mode and level == 'tokens':
            feats, data_samples = modality_dropout(feats, data_samples, mode)
        return self.cls_head.loss(feats, data_samples)

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: SampleList, **kwargs) -> SampleList:
        """Predict class scores (per modality too, if configured)."""
        inputs = zero_missing_modalities(inputs, data_samples)
        level = self._level(self.test_cfg)
        feats, _ = self.extract_feat(inputs)
        views = dict(fusion=feats)
        if (self.test_cfg or {}).get('modality_scores'):
            for keep, drop in (('audio', 'video'), ('video', 'audio')):
                if level == 'tokens':
                    views[keep] = dict(feats,
                                       **{drop: torch.zeros_like(feats[drop])})
                elif type(self).extract_feat is AVRecognizer.extract_feat:
                    # only the zeroed modality is encoded again: the kept
                    # one's tokens are those of the fused view
                    alone = {drop: torch.zeros_like(inputs[drop])}
                    views[keep] = dict(feats,
                                       **{drop: self._encode(alone, drop)})
                else:  # a subclass encodes its own way
                    alone = dict(inputs,
                                 **{drop: torch.zeros_like(inputs[drop])})
                    views[keep] = self.extract_feat(alone)[0]
        num = len(data_samples)
        scores = {}
        for name, view in views.items():
            clip_scores = self.cls_head(view)  # [B*clips, classes]
            scores[name] = self.cls_head.average_clip(
                clip_scores, num_segs=clip_scores.shape[0] // num)
        for i, sample in enumerate(data_samples):
            sample_scores = {k: v[i] for k, v in scores.items()}
            sample.set_pred_score(
                sample_scores if len(scores) > 1 else sample_scores['fusion'])
            sample.set_pred_label(sample_scores['fusion'].argmax(keepdim=True))
        return data_samples
