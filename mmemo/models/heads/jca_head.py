# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from ..layers import JointCrossAttention
from .base_va_head import BaseVAHead, VARegressor


@MODELS.register_module()
class JCAHead(BaseVAHead):
    """JCA's fusion as the paper describes it: joint cross-attention and
    per-step valence/arousal regressors.

    Praveen, Cardinal and Granger, "Audio-Visual Fusion for Emotion
    Recognition in the Valence-Arousal Space Using Joint Cross-Attention",
    IEEE T-BIOM 2023 (code: github.com/praveena2j/
    Joint-Cross-Attention-for-Audio-Visual-Fusion, ``models/Jcam_512.py``;
    with ``enc_channels`` the ``models/cam.py`` variant).

    1. Optionally (``cam.py``) an FC encoder per stream, no activation.
    2. ``JointCrossAttention`` over the L sub-clips (L fixed).
    3. The two attended streams concatenated (the paper); the released
       ``Jcam_512`` concatenates the *raw* visual features with the
       attended visual ones (CVPRW issue #4): ``regressor_input=
       'jcam_512'``, with which official weights give its outputs.
    4. Per sub-clip ``FC(d → 128) → Dropout(0.6) → FC(128 → 1)`` for
       valence and for arousal; the code has no activation between the FCs.

    Inputs are one feature per sub-clip: audio ``[B, L, audio_channels]``
    and video ``[B, L, ...]`` (e.g. the R(2+1)D map ``[B, L, 512, 1, 7,
    7]``), whose trailing dimensions are flattened to ``video_channels``.

    Args:
        seq_len (int): The fixed number of sub-clips L. Defaults to 16.
        audio_channels (int): Audio feature size. Defaults to 512.
        video_channels (int): Flattened video feature size.
            Defaults to 512.
        k (int): Size of the attention features. Defaults to 32.
        enc_channels (int, optional): Size of the per-stream FC encoders
            (128 in ``cam.py``); None for none (``Jcam_512``).
        hidden (int): Hidden size of the regressors. Defaults to 128.
        dropout (float): Dropout of the regressors. Defaults to 0.6.
        regressor_input (str): ``'attended'`` (``[att_a, att_v]``, the
            paper) or ``'jcam_512'`` (``[v, att_v]``, the released code).
            Defaults to ``'attended'``.
        loss (dict): The loss. Defaults to ``dict(type='CCCLoss')``.
        init_cfg (dict or list, optional): Initialisation.
    """

    def __init__(self,
                 seq_len: int = 16,
                 audio_channels: int = 512,
                 video_channels: int = 512,
                 k: int = 32,
                 enc_channels: Optional[int] = None,
                 hidden: int = 128,
                 dropout: float = 0.6,
                 regressor_input: str = 'attended',
                 loss: ConfigType = dict(type='CCCLoss'),
                 init_cfg=None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        if regressor_input not in ('attended', 'jcam_512'):
            raise ValueError("regressor_input must be 'attended' or "
                             f"'jcam_512', got {regressor_input!r}")
        self.regressor_input = regressor_input
        self.audio_encoder = self.video_encoder = None
        if enc_channels:
            self.audio_encoder = nn.Linear(audio_channels, enc_channels)
            self.video_encoder = nn.Linear(video_channels, enc_channels)
            audio_channels = video_channels = enc_channels
        self.jca = JointCrossAttention(seq_len, audio_channels, video_channels,
                                       k)
        fused = audio_channels + video_channels \
            if regressor_input == 'attended' else 2 * video_channels
        self.valence = VARegressor(fused, hidden, dropout, activation=False)
        self.arousal = VARegressor(fused, hidden, dropout, activation=False)

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Fuse the sub-clip features and regress valence and arousal.

        Args:
            feats (dict): ``audio`` ``[B, L, audio_channels]`` and
                ``video`` ``[B, L, ...]`` sub-clip features.

        Returns:
            Tensor: ``[B, L, 2]``, valence and arousal of each sub-clip.
        """
        audio = feats['audio']  # [B, L, C_a]
        video = feats['video'].flatten(2)  # [B, L, C_v]
        if self.audio_encoder is not None:
            audio = self.audio_encoder(audio)  # [B, L, enc]
            video = self.video_encoder(video)  # [B, L, enc]
        att_a, att_v = self.jca(audio, video)  # [B, L, C_a], [B, L, C_v]
        first = att_a if self.regressor_input == 'attended' else video
        fused = torch.cat([first, att_v], dim=-1)  # [B, L, 2 C] (C_a + C_v)
        return torch.stack(
            [self.valence(fused), self.arousal(fused)], dim=-1)  # [B, L, 2]
