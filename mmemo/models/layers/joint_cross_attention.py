# Copyright (c) mmemo contributors. All rights reserved.
import math
from typing import Tuple

import torch
import torch.nn as nn

from mmemo.registry import MODELS


def check_seq_len(x: torch.Tensor, seq_len: int, name: str) -> None:
    """Assert the fixed number of sub-clips of the L×L temporal weights."""
    assert x.shape[1] == seq_len, (
        f'{name} has {x.shape[1]} time steps, but the block was built for '
        f'seq_len={seq_len}: its L×L weights act along time, so L is '
        f'fixed (16 for the T-BIOM code, 8 for CVPRW); build it with '
        f'seq_len={x.shape[1]} or window the input to {seq_len} steps')


@MODELS.register_module()
class JointCrossAttention(nn.Module):
    """The joint cross-attention block of JCA (the paper's equations).

    Praveen et al., "Audio-Visual Fusion for Emotion Recognition in the
    Valence-Arousal Space Using Joint Cross-Attention", IEEE T-BIOM 2023
    (``models/Jcam_512.py`` and ``models/cam.py`` of the official code),
    batched. With time-major ``X_a`` ``[L, d_a]``, ``X_v`` ``[L, d_v]``
    and the joint ``J = [X_a, X_v]`` ``[L, d]``:

    - ``C_a = tanh(X_aᵀ W_ja J / √d)`` ``[d_a, d]``, W_ja ``L×L``;
    - ``H_a = ReLU(X_aᵀ W_a + C_a W_ca)`` ``[d_a, k]``;
    - ``X_att,a = (H_a W_ha)ᵀ + X_a`` ``[L, d_a]``;

    the same for video. No layer has a bias. ``W_ja``, ``W_a`` and ``W_ha``
    act along time, so the number of steps ``L`` is fixed.

    Args:
        seq_len (int): The fixed number of time steps L.
        audio_channels (int): Audio feature size d_a.
        video_channels (int): Video feature size d_v.
        k (int): Size of the attention features. Defaults to 32.
    """

    def __init__(self,
                 seq_len: int,
                 audio_channels: int,
                 video_channels: int,
                 k: int = 32) -> None:
        super().__init__()
        self.seq_len = seq_len
        joint = audio_channels + video_channels
        # nn.Linear(in, out) holds W as [out, in]: Linear(Jᵀ)ᵀ = W J
        self.w_ja = nn.Linear(seq_len, seq_len, bias=False)
        self.w_jv = nn.Linear(seq_len, seq_len, bias=False)
        self.w_a = nn.Linear(seq_len, k, bias=False)
        self.w_v = nn.Linear(seq_len, k, bias=False)
        self.w_ca = nn.Linear(joint, k, bias=False)
        self.w_cv = nn.Linear(joint, k, bias=False)
        self.w_ha = nn.Linear(k, seq_len, bias=False)
        self.w_hv = nn.Linear(k, seq_len, bias=False)

    def _attend(self, x: torch.Tensor, joint_t: torch.Tensor, w_j: nn.Linear,
                w_x: nn.Linear, w_c: nn.Linear,
                w_h: nn.Linear) -> torch.Tensor:
        """One stream: ``(H W_h)ᵀ + X`` with ``x`` ``[B, L, d_x]`` and
        ``joint_t`` = Jᵀ ``[B, d, L]``."""
        x_t = x.transpose(1, 2)  # [B, d_x, L]
        mixed = w_j(joint_t).transpose(1, 2)  # [B, L, d]: W_j J
        corr = torch.tanh(x_t @ mixed /
                          math.sqrt(joint_t.shape[1]))  # [B, d_x, d]
        h = torch.relu(w_x(x_t) + w_c(corr))  # [B, d_x, k]
        return w_h(h).transpose(1, 2) + x  # [B, L, d_x]

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Attend each stream with the joint correlation.

        Args:
            audio (Tensor): ``X_a`` ``[B, L, d_a]``.
            video (Tensor): ``X_v`` ``[B, L, d_v]``.

        Returns:
            tuple: The attended ``[B, L, d_a]`` audio and ``[B, L, d_v]``
            video.
        """
        check_seq_len(audio, self.seq_len, 'audio')
        check_seq_len(video, self.seq_len, 'video')
        joint_t = torch.cat([audio, video], dim=-1).transpose(1, 2)  # [B,d,L]
        att_a = self._attend(audio, joint_t, self.w_ja, self.w_a, self.w_ca,
                             self.w_ha)  # [B, L, d_a]
        att_v = self._attend(video, joint_t, self.w_jv, self.w_v, self.w_cv,
                             self.w_hv)  # [B, L, d_v]
        return att_a, att_v


@MODELS.register_module()
class DenseCoAttention(nn.Module):
    """The batched joint co-attention of the official JCA code
    (``DenseCoAttn`` of ``models/orig_cam.py``, what its ``main.py`` trains).

    With ``X_a`` ``[B, L, d_a]``, ``X_v`` ``[B, L, d_v]``, d = d_a + d_v:

    - ``J' = FC_d→d([X_a, X_v])`` ``[B, L, d]``, shared by both streams;
    - ``S_a = Dropout(tanh(FC_L→L(X_aᵀ) J' / √d))`` ``[B, d_a, d]``;
    - ``X_a + Dropout(ReLU(FC_d→d_a(ReLU(tanh(FC_d_a→d_a(X_a) S_a)))))``;

    the same for video, from the same inputs. The FC along time fixes L.
    The spec marks only the paper block as bias-free, so every FC here has
    nn.Linear's bias.

    Args:
        seq_len (int): The fixed number of time steps L.
        audio_channels (int): Audio feature size d_a.
        video_channels (int): Video feature size d_v.
        dropout (float): Dropout on the correlation and on the residual
            branch. Defaults to 0.6.
    """

    def __init__(self,
                 seq_len: int,
                 audio_channels: int,
                 video_channels: int,
                 dropout: float = 0.6) -> None:
        super().__init__()
        self.seq_len = seq_len
        joint = audio_channels + video_channels
        self.joint = nn.Linear(joint, joint)
        self.key_a = nn.Linear(seq_len, seq_len)
        self.key_v = nn.Linear(seq_len, seq_len)
        self.value_a = nn.Linear(audio_channels, audio_channels)
        self.value_v = nn.Linear(video_channels, video_channels)
        self.out_a = nn.Linear(joint, audio_channels)
        self.out_v = nn.Linear(joint, video_channels)
        self.dropout = nn.Dropout(dropout)

    def _attend(self, x: torch.Tensor, joint: torch.Tensor, key: nn.Linear,
                value: nn.Linear, out: nn.Linear) -> torch.Tensor:
        """One stream, ``x`` ``[B, L, d_x]``, ``joint`` = J' ``[B, L, d]``."""
        k = key(x.transpose(1, 2))  # [B, d_x, L]
        corr = torch.tanh(k @ joint / math.sqrt(joint.shape[-1]))  # [B,d_x,d]
        corr = self.dropout(corr)
        attended = torch.relu(torch.tanh(value(x) @ corr))  # [B, L, d]
        return x + self.dropout(torch.relu(out(attended)))  # [B, L, d_x]

    def forward(self, audio: torch.Tensor,
                video: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Co-attend the two streams.

        Args:
            audio (Tensor): ``[B, L, d_a]``.
            video (Tensor): ``[B, L, d_v]``.

        Returns:
            tuple: The updated ``[B, L, d_a]`` audio and ``[B, L, d_v]``
            video.
        """
        check_seq_len(audio, self.seq_len, 'audio')
        check_seq_len(video, self.seq_len, 'video')
        joint = self.joint(torch.cat([audio, video], dim=-1))  # [B, L, d]
        att_a = self._attend(audio, joint, self.key_a, self.value_a,
                             self.out_a)  # [B, L, d_a]
        att_v = self._attend(video, joint, self.key_v, self.value_v,
                             self.out_v)  # [B, L, d_v]
        return att_a, att_v
