# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
import torch.nn as nn
from mmaction.models.heads import BaseHead
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from ..layers import CrossAttention


def conv1d_block(in_channels: int, out_channels: int,
                 audio: bool) -> nn.Sequential:
    """AVT-CA's temporal conv block: Conv1d(k3) + BN + ReLU.

    The audio blocks use 'valid' padding and MaxPool1d(2, stride 1) (156 →
    150 → 144 MFCC frames); the visual ones 'same' padding and no pool.
    """
    layers = [
        nn.Conv1d(
            in_channels, out_channels, 3, padding=0 if audio else 'same'),
        nn.BatchNorm1d(out_channels),
        nn.ReLU(inplace=True)
    ]
    if audio:
        layers.append(nn.MaxPool1d(2, 1))
    return nn.Sequential(*layers)


@MODELS.register_module()
class AVTCAHead(BaseHead):
    """AVT-CA's fusion: audio-video transformer fusion with cross-attention.

    Dhanith et al., "Multimodal Emotion Recognition using Audio-Video
    Transformer Fusion with Cross Attention", arXiv 2407.18552 (code:
    github.com/shravan-18/AVTCA, built on Chumachenko et al., ICPR 2022).

    1. Stage 1: the audio 1-D CNN (10 → 64 → 128, 'valid' + max-pool) and
       the visual temporal convs (1024 → 64 → 64, 'same').
    2. Cross-attention with external residuals: audio queries video
       (``av1``: q 128-d, kv 64-d, 8 heads of 16) and video queries audio
       (``va1``: q 64-d, kv 128-d, 8 heads of 8); each block is pre-LN
       attention, projection and ``x + MLP(LN(x))``, no inner residual.
    3. Stage 2: audio 128 → 256 → 128, visual 64 → 128 → 128.
    4. The final attention, one 8-head layer shared by both streams:
       ``'self'`` (the official code, ``forward_feature_3``: self-attention
       on each stream) or ``'cross'`` (the paper's reading: audio attends
       over video and video over audio). No residual, no LayerNorm.
    5. Mean over time per stream, concatenation (256) and a linear
       classifier.

    Inputs are token sequences: audio ``[B, T_a, audio_in_channels]`` (e.g.
    10 MFCCs × 156 frames) and video ``[B, T_v, video_in_channels]`` (e.g.
    1024-d EfficientFace features of 15 frames, or any backbone's tokens
    through ``TokenEncoder``).

    Args:
        num_classes (int): Number of classes.
        audio_in_channels (int): Audio token size. Defaults to 10.
        video_in_channels (int): Video token size. Defaults to 1024.
        num_heads (int): Heads of every attention. Defaults to 8 (the code
            hard-codes 8 and ignores its ``--num_heads``).
        final_attention (str): ``'self'`` (the official code) or
            ``'cross'`` (the paper's text). Defaults to ``'self'``.
        attn_drop (float): Attention dropout of ``av1``/``va1``. Defaults
            to 0 (the official ``AttentionBlock`` has none).
        norm_eps (float): Epsilon of the LayerNorms of ``av1``/``va1``.
            Defaults to 1e-5 (``nn.LayerNorm``'s default, as in the code).
        loss_cls (dict): Loss. Defaults to
            ``dict(type='mmaction.CrossEntropyLoss')``.
        average_clips (str): How clip scores are averaged at test time.
            Defaults to ``'prob'``.
        **kwargs: Other arguments of mmaction's ``BaseHead``.
    """

    def __init__(self,
                 num_classes: int,
                 audio_in_channels: int = 10,
                 video_in_channels: int = 1024,
                 num_heads: int = 8,
                 final_attention: str = 'self',
                 attn_drop: float = 0.,
                 norm_eps: float = 1e-5,
                 loss_cls: ConfigType = dict(type='mmaction.CrossEntropyLoss'),
                 average_clips: str = 'prob',
                 **kwargs) -> None:
        super().__init__(
            num_classes,
            in_channels=256,
            loss_cls=loss_cls,
            average_clips=average_clips,
            **kwargs)
        assert final_attention in ('cross', 'self'), final_attention
        self.final_attention = final_attention
        self.audio_stage1 = nn.Sequential(
            conv1d_block(audio_in_channels, 64, audio=True),
            conv1d_block(64, 128, audio=True))
        self.audio_stage2 = nn.Sequential(
            conv1d_block(128, 256, audio=True),
            conv1d_block(256, 128, audio=True))
        self.video_stage1 = nn.Sequential(
            conv1d_block(video_in_channels, 64, audio=False),
            conv1d_block(64, 64, audio=False))
        self.video_stage2 = nn.Sequential(
            conv1d_block(64, 128, audio=False),
            conv1d_block(128, 128, audio=False))
        self.av1 = CrossAttention(
            128, 64, 128, num_heads, attn_drop=attn_drop, norm_eps=norm_eps)
        self.va1 = CrossAttention(
            64, 128, 64, num_heads, attn_drop=attn_drop, norm_eps=norm_eps)
        # one nn.MultiheadAttention(128, 8) in the code: biased q/k/v
        self.final = CrossAttention(
            128,
            128,
            128,
            num_heads,
            pre_ln_q=False,
            pre_ln_kv=False,
            qkv_bias=True,
            ffn_ratio=None)
        self.fc_cls = nn.Linear(256, num_classes)

    def forward(self, feats: Dict[str, torch.Tensor],
                **kwargs) -> torch.Tensor:
        """Fuse the two token sequences and classify.

        Args:
            feats (dict): ``audio`` ``[B, T_a, C_a]`` and ``video``
                ``[B, T_v, C_v]`` tokens.

        Returns:
            Tensor: Class scores ``[B, num_classes]``.
        """
        a = self.audio_stage1(feats['audio'].transpose(1, 2))  # [B,128,Ta']
        v = self.video_stage1(feats['video'].transpose(1, 2))  # [B, 64, Tv]
        a_tok, v_tok = a.transpose(1, 2), v.transpose(1, 2)
        a = a + self.av1(a_tok, v_tok).transpose(1, 2)  # [B, 128, Ta']
        v = v + self.va1(v_tok, a_tok).transpose(1, 2)  # [B, 64, Tv]
        a = self.audio_stage2(a).transpose(1, 2)  # [B, Ta'', 128]
        v = self.video_stage2(v).transpose(1, 2)  # [B, Tv, 128]
        if self.final_attention == 'cross':
            a, v = self.final(a, v), self.final(v, a)
        else:
            a, v = self.final(a, a), self.final(v, v)
        x = torch.cat([a.mean(dim=1), v.mean(dim=1)], dim=1)  # [B, 256]
        return self.fc_cls(x)  # [B, num_classes]
