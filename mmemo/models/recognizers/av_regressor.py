# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import torch
from mmaction.models.recognizers import BaseRecognizer
from mmaction.utils import ConfigType, OptConfigType, SampleList

from mmemo.registry import MODELS
from ..utils import in_own_scope
from .modality_dropout import zero_missing_modalities

#: The streams an AVRegressor reads; ``text`` is optional.
STREAMS = ('audio', 'video', 'text')


@MODELS.register_module()
class AVRegressor(BaseRecognizer):
    """Sequence-to-sequence audio-visual valence/arousal regressor.

    A sample is a window of ``L`` sub-clips: ``inputs`` holds ``video``
    ``[B, L, C, T, H, W]`` and ``audio`` ``[B, L, 1, T, F]`` (or cached
    features ``[B, L, ...]`` when an encoder is None), and optionally a
    third stream ``text`` (features ``[B, N, D]``, or the input of
    ``text_encoder``). Each encoder runs on the ``B*L`` sub-clips (``B*N``
    tokens); the fusion head (a ``BaseVAHead``) turns the ``[B, L, ...]``
    features into ``[B, L, 2]``. Streams may have a different number of
    tokens; their key-padding masks travel in the data samples'
    ``padding_masks`` field (see ``BaseVAHead.with_padding_masks``).

    Args:
        fusion_head (dict): The head, e.g. ``JCAHead``, ``JMTHead`` or
            ``MAVENHead``.
        visual_encoder (dict, optional): Sub-clip encoder; None = the
            inputs are features.
        audio_encoder (dict, optional): The same for audio.
        text_encoder (dict, optional): The same for the optional ``text``
            stream; None = text features (when the inputs have ``text``).
        freeze_encoders (bool): Keep the encoders in eval mode without
            gradients (JCA/JMT train the fusion on frozen backbones).
            Defaults to False.
        data_preprocessor (dict, optional): Usually mmaction's
            ``MultiModalDataPreprocessor``; None stacks every stream
            (video, audio, text) unchanged.
        train_cfg (dict, optional): Unused.
        test_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 fusion_head: ConfigType,
                 visual_encoder: OptConfigType = None,
                 audio_encoder: OptConfigType = None,
                 text_encoder: OptConfigType = None,
                 freeze_encoders: bool = False,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None) -> None:
        if data_preprocessor is None:
            stack = dict(type='mmaction.ActionDataPreprocessor')
            data_preprocessor = dict(
                type='mmaction.MultiModalDataPreprocessor',
                preprocessors={s: stack
                               for s in STREAMS})
        super().__init__(
            # no visual encoder: cached features pass through an Identity
            backbone=in_own_scope(visual_encoder) if visual_encoder else dict(
                type=torch.nn.Identity),
            cls_head=fusion_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.audio_encoder = MODELS.build(in_own_scope(audio_encoder)) \
            if audio_encoder else None
        if text_encoder:
            # only built when configured: no new state-dict key otherwise
            self.text_encoder = MODELS.build(in_own_scope(text_encoder))
        self.freeze_encoders = freeze_encoders
        if freeze_encoders:
            for encoder in self.encoders().values():
                encoder.requires_grad_(False)
                encoder.eval()  # frozen BN statistics from the start

    def encoders(self) -> Dict[str, torch.nn.Module]:
        modules = (('video', self.backbone), ('audio', self.audio_encoder),
                   ('text', getattr(self, 'text_encoder', None)))
        return {
            k: m
            for k, m in modules
            if m is not None and not isinstance(m, torch.nn.Identity)
        }

    def train(self, mode: bool = True) -> 'AVRegressor':
        super().train(mode)
        if self.freeze_encoders:
            for encoder in self.encoders().values():
                encoder.eval()
        return self

    @staticmethod
    def _encode(encoder: Optional[torch.nn.Module],
                x: torch.Tensor) -> torch.Tensor:
        if encoder is None:
            return x  # [B, L, ...] features
        batch, length = x.shape[:2]
        y = encoder(x.flatten(0, 1))  # [B*L, ...]
        return y.view(batch, length, *y.shape[1:])  # [B, L, ...]

    def extract_feat(self,
                     inputs: Dict[str, torch.Tensor],
                     stage: str = 'backbone',
                     data_samples: Optional[SampleList] = None,
                     **kwargs) -> tuple:
        """Encode the sub-clips of every stream.

        Args:
            inputs (dict): ``video`` and ``audio``, optionally ``text``.
            stage (str): ``'backbone'`` (the features) or ``'head'`` (the
                predictions).
            data_samples (list, optional): With ``stage='head'``, the
                samples whose ``padding_masks`` reach the head.

        Returns:
            tuple: ``dict(audio=[B, L, ...], video=[B, L, ...])`` (and
            ``text`` when given; or the ``[B, L, 2]`` predictions for
            ``stage='head'``) and ``{}``.
        """
        encoders = self.encoders()
        if 'text' in encoders and 'text' not in inputs:
            raise KeyError('AVRegressor has a text_encoder but the inputs '
                           f'have no "text" (got {sorted(inputs)})')
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_encoders):
            feats = {
                name: self._encode(encoders.get(name), inputs[name])
                for name in STREAMS if name in inputs or name != 'text'
            }
        if stage == 'head':
            return self.cls_head(
                self.cls_head.with_padding_masks(feats, data_samples)), {}
        return feats, {}

    def loss(self, inputs: Dict[str, torch.Tensor], data_samples: SampleList,
             **kwargs) -> dict:
        inputs = zero_missing_modalities(inputs, data_samples)
        feats, _ = self.extract_feat(inputs)
        return self.cls_head.loss(feats, data_samples)

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: SampleList, **kwargs) -> SampleList:
        inputs = zero_missing_modalities(inputs, data_samples)
        feats, _ = self.extract_feat(inputs)
        return self.cls_head.predict(feats, data_samples)
