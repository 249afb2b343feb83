# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from ..layers import (AdditiveAttentionPool, SinusoidalPositionalEncoding,
                      TemporalReduce, TransformerEncoderLayer)


@MODELS.register_module()
class CFNSRHead(BaseHead):
    """CFN-SR's fusion: audio self-attention, audio-guided attention over the
    3D-CNN map with a residual, and splicing.

    Fu et al., "A cross-modal fusion network based on self-attention and
    residual structure for multimodal emotion recognition", arXiv 2111.02172
    (code: github.com/skeletonNN/CFN-SR, ``msaf_ravdess.py`` with the
    transformer enabled, the variant with the paper's 26.30M parameters).

    1. The audio CNN map ``A`` ``[B, 64, 26]`` as 26 steps of 64-d: MulT's
       transformer encoder (× √64, fairseq sinusoidal positions, embedding
       dropout, 5 pre-LN causal layers, final LayerNorm); the last step is
       ``h`` ``[B, 64]``.
    2. ``g = W_y h`` (no bias); over the positions p of the video map
       ``V`` (``[B, 2048, 2, 7, 7]``): ``e_p = w·tanh(W_c V_p + g)`` and
       ``α = softmax(e)`` over the 49 positions of each temporal slice, as
       the code does (``alpha_softmax='per_slice'``; ``'all_positions'``
       takes it over all 98), **per sample**: the code sums the α maps of
       the whole batch and applies the sum to every sample, so a sample's
       output depends on the rest of its batch (a bug, fixed by default;
       ``alpha_batch_sum=True`` reproduces it).
    3. ``V' = V ⊙ α + V``, averaged over the positions → 2048 (the code's
       ``AvgPool3d((2, 7, 7))``).
    4. The *raw* audio map flattened channel-major (1664) → Dropout 0.4;
       concatenation with the video (3712) → Linear → classes.

    Ablations (the spec's variants): ``residual=False`` (``V' = V ⊙ α``,
    ``msaf_ravdess_ab_2.py``), ``audio_transformer=False`` (``h`` is the
    CNN map's last step; 26,051,369 parameters at the RAVDESS setting),
    ``cross_modal=False`` (no block: pooled video + audio,
    ``msaf_ravdess_ab_1.py``; 25,916,072).

    Args:
        num_classes (int): Number of classes.
        video_channels (int): Channels of the video map. Defaults to 2048.
        audio_channels (int): Channels of the audio map. Defaults to 64.
        audio_length (int): Steps of the audio map (fixes the classifier's
            input: ``video_channels + audio_channels * audio_length``).
            Defaults to 26.
        num_heads (int): Heads of the audio transformer. Defaults to 8.
        num_layers (int): Its layers. Defaults to 5.
        ffn_dim (int): Its FFN width. Defaults to 256.
        attn_drop (float): Its attention dropout. Defaults to 0.1.
        dropout (float): Its ReLU and residual dropouts (MulT's
            ``relu_dropout`` and ``res_dropout``). Defaults to 0.1.
        embed_drop (float): Dropout after the positions. Defaults to 0.3.
        attn_hidden (int): Size of ``W_c``/``W_y``'s output. Defaults to 64.
        audio_drop (float): Dropout on the flattened audio. Defaults to 0.4.
        residual (bool): ``V ⊙ α + V`` (True) or ``V ⊙ α``.
            Defaults to True.
        alpha_softmax (str): ``'per_slice'`` (over ``h·w`` for each of
            the ``t`` slices of a map: the code) or ``'all_positions'``
            (over every position or token). Defaults to ``'per_slice'``
            for ``video_format='map'``, ``'all_positions'`` for
            ``'tokens'``.
        alpha_batch_sum (bool): Apply the sum of the batch's α maps to
            every sample, as the code does. Defaults to False.
        audio_transformer (bool): Encode the audio steps before taking the
            last one. Defaults to True.
        cross_modal (bool): Use the attention block at all.
            Defaults to True.
        video_format (str): ``'map'`` (a 3D-CNN map ``[B, C_v, t, h, w]``,
            its ``t·h·w`` positions attended, the paper) or ``'tokens'``
            (``[B, P, C_v]`` tokens, e.g. per-frame features from a
            ``TokenEncoder``: the P tokens are the positions).
            Defaults to ``'map'``.
        loss_cls (dict): Loss. Defaults to
            ``dict(type='mmaction.CrossEntropyLoss')``.
        average_clips (str): How clip scores are averaged at test time.
            Defaults to ``'prob'``.
        **kwargs: Other arguments of mmaction's ``BaseHead``.
    """

    def __init__(self,
                 num_classes: int,
                 video_channels: int = 2048,
                 audio_channels: int = 64,
                 audio_length: int = 26,
                 num_heads: int = 8,
                 num_layers: int = 5,
                 ffn_dim: int = 256,
                 attn_drop: float = 0.1,
                 dropout: float = 0.1,
                 embed_drop: float = 0.3,
                 attn_hidden: int = 64,
                 audio_drop: float = 0.4,
                 residual: bool = True,
                 alpha_softmax: Optional[str] = None,
                 alpha_batch_sum: bool = False,
                 audio_transformer: bool = True,
                 cross_modal: bool = True,
                 video_format: str = 'map',
                 loss_cls: ConfigType = dict(type='mmaction.CrossEntropyLoss'),
                 average_clips: str = 'prob',
                 **kwargs) -> None:
        super().__init__(
            num_classes,
            in_channels=video_channels + audio_channels * audio_length,
            loss_cls=loss_cls,
            average_clips=average_clips,
            **kwargs)
        if video_format not in ('map', 'tokens'):
            raise ValueError("video_format must be 'map' or 'tokens', got "
                             f'{video_format!r}')
        self.video_format = video_format
        alpha_softmax = alpha_softmax or ('per_slice' if video_format == 'map'
                                          else 'all_positions')
        if alpha_softmax not in ('per_slice', 'all_positions') or (
                alpha_softmax == 'per_slice' and video_format != 'map'):
            raise ValueError(
                "alpha_softmax must be 'per_slice' (video_format='map' only) "
                f"or 'all_positions', got {alpha_softmax!r} with "
                f'video_format={video_format!r}')
        self.alpha_softmax = alpha_softmax
        self.alpha_batch_sum = alpha_batch_sum
        self.audio_shape = (audio_channels, audio_length)
        self.residual = residual
        self.cross_modal = cross_modal
        self.audio_transformer = None
        if cross_modal and audio_transformer:
            self.audio_transformer = nn.Sequential(
                SinusoidalPositionalEncoding(
                    audio_channels, scale=True, style='fairseq'),
                nn.Dropout(embed_drop), *[
                    TransformerEncoderLayer(
                        audio_channels,
                        num_heads,
                        ffn_dim,
                        norm='pre',
                        dropout=dropout,
                        attn_drop=attn_drop,
                        causal=True) for _ in range(num_layers)
                ], nn.LayerNorm(audio_channels))
        self.last_step = TemporalReduce('last')
        self.attention = AdditiveAttentionPool(
            video_channels, audio_channels, attn_hidden,
            score_bias=True) if cross_modal else None
        self.audio_drop = nn.Dropout(audio_drop)
        self.fc_cls = nn.Linear(self.in_channels, num_classes)

    def forward(self, feats: Dict[str, torch.Tensor],
                **kwargs) -> torch.Tensor:
        """Fuse the audio and video maps and classify.

        Args:
            feats (dict): ``audio`` ``[B, C_a, T_a]`` (channels first, e.g.
                ``MFCCNet``'s ``[B, 64, 26]``) and ``video``
                ``[B, C_v, t, h, w]`` (e.g. ``ResNeXt3D``'s
                ``[B, 2048, 2, 7, 7]``), or ``[B, P, C_v]`` tokens with
                ``video_format='tokens'``.

        Returns:
            Tensor: Class scores ``[B, num_classes]``.
        """
        audio, video = feats['audio'], feats['video']
        if tuple(audio.shape[1:]) != self.audio_shape:
            raise ValueError(
                f'CFNSRHead was built for a {self.audio_shape} audio map '
                f'(audio_channels, audio_length), got {tuple(audio.shape)}')
        v = video.flatten(2).transpose(1, 2) \
            if self.video_format == 'map' else video  # [B, P, C_v]
        if self.cross_modal:
            steps = audio.transpose(1, 2)  # [B, T_a, C_a]
            if self.audio_transformer is not None:
                steps = self.audio_transformer(steps)  # [B, T_a, C_a]
            h = self.last_step(steps)  # [B, C_a]
            alpha = self._alpha(v, h, video.shape)  # [B, P]
            weighted = v * alpha.unsqueeze(-1)  # [B, P, C_v]
            v = weighted + v if self.residual else weighted
        v = v.mean(dim=1)  # [B, C_v]
        a = self.audio_drop(audio.flatten(1))  # [B, C_a * T_a]
        return self.fc_cls(torch.cat([v, a], dim=1))  # [B, num_classes]

    def _alpha(self, v: torch.Tensor, h: torch.Tensor,
               shape: torch.Size) -> torch.Tensor:
        """The attention weights ``[B, P]`` of the positions ``v``
        ``[B, P, C_v]`` guided by ``h`` ``[B, C_a]``."""
        if self.alpha_softmax == 'all_positions':
            _, alpha = self.attention(v, h)  # [B, P]
        else:
            if len(shape) != 5:
                raise ValueError(
                    "alpha_softmax='per_slice' needs a [B, C_v, t, h, w] "
                    f'map, got {tuple(shape)}')
            b, t = shape[0], shape[2]
            slices = v.reshape(b * t, -1, v.shape[-1])  # [B·t, h·w, C_v]
            _, alpha = self.attention(slices, h.repeat_interleave(t, dim=0))
            alpha = alpha.reshape(b, -1)  # [B, t·h·w]
        if self.alpha_batch_sum:
            alpha = alpha.sum(dim=0, keepdim=True).expand_as(alpha)  # [B, P]
        return alpha
