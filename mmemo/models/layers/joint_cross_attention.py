# Copyright (c) mmemo contributors. All rights reserved.
import math
from typing import Tuple

import torch
import torch.nn as nn
from torch.autograd.function import once_differentiable

from mmemo.registry import MODELS


def check_seq_len(x: torch.Tensor, seq_len: int, name: str) -> None:
    """Assert the fixed number of sub-clips of the L×L temporal weights."""
    assert x.shape[1] == seq_len, (
        f'{name} has {x.shape[1]} time steps, but the block was built for '
        f'seq_len={seq_len}: its L×L weights act along time, so L is '
        f'fixed (16 for the T-BIOM code, 8 for CVPRW); build it with '
        f'seq_len={x.shape[1]} or window the input to {seq_len} steps')


class TanhCorrelationProject(torch.autograd.Function):
    """``tanh(Xᵀ M / 2) W_cᵀ`` of the joint cross-attention, computed
    without ``tanh`` and without a graph over the ``[B, d_x, d]``
    correlation (the block's largest tensor).

    With ``M`` = 2 W_j J / √d (the caller folds the scale into the small
    ``[B, L, d]`` product) and ``S = σ(Xᵀ M)``, ``tanh(u) = 2σ(2u) − 1``
    gives ``C W_cᵀ = S (2 W_c)ᵀ − 1 W_cᵀ``: one matmul, an in-place
    sigmoid (PyTorch's CPU ``tanh`` takes ~10× the time of its ``sigmoid``)
    and a row vector. Only ``S`` is kept for the backward pass, whose
    ``dC/dZ = 2 S (1 − S)`` is one ``sigmoid_backward``. The same function
    as the plain ops to float rounding (~1e-7 absolute on ``C``).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, mixed: torch.Tensor,
                weight: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): ``X`` ``[B, L, d_x]``.
            mixed (Tensor): ``M`` ``[B, L, d]``.
            weight (Tensor): ``W_c`` ``[k, d]``.

        Returns:
            Tensor: ``tanh(Xᵀ M / 2) W_cᵀ`` ``[B, d_x, k]``.
        """
        # |Z| <= 30 keeps S and S (1 − S) normal floats (subnormal ones
        # slow every later op on x86 several times); 2σ(±30) − 1 = ±1
        # in float32, as tanh(±15) is
        sig = torch.bmm(x.transpose(1, 2),
                        mixed).clamp_(-30, 30).sigmoid_()  # [B, d_x, d]
        b, d_x, d = sig.shape
        out = torch.addmm(
            -weight.sum(1), sig.view(-1, d),
            (2 * weight).t())  # [B·d_x, k]: (2S − 1) W_cᵀ
        ctx.save_for_backward(x, mixed, weight, sig)
        return out.view(b, d_x, -1)  # [B, d_x, k]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor) -> tuple:
        """Gradients of ``x``, ``mixed`` and ``weight``."""
        x, mixed, weight, sig = ctx.saved_tensors
        b, d_x, d = sig.shape
        grad_out = grad_out.reshape(-1, weight.shape[0])  # [B·d_x, k]
        sig_flat = sig.view(-1, d)  # [B·d_x, d]
        grad_w = torch.mm(grad_out.t(), sig_flat)  # [k, d]: Gᵀ S
        grad_w.mul_(2).sub_(grad_out.sum(0)[:, None])  # Gᵀ (2S − 1)
        grad_c = torch.mm(grad_out, 2 * weight)  # [B·d_x, d]: 2 G W_c
        grad_z = torch.ops.aten.sigmoid_backward.grad_input(
            grad_c, sig_flat, grad_input=grad_c).view(
                b, d_x, d)  # [B, d_x, d]: · S (1 − S), in place
        grad_x = torch.bmm(mixed, grad_z.transpose(1, 2))  # [B, L, d_x]
        grad_mixed = torch.bmm(x, grad_z)  # [B, L, d]
        return grad_x, grad_mixed, grad_w


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
        fused (bool): Compute ``tanh(·) W_c`` with
            :class:`TanhCorrelationProject` (the same function, a faster
            training step on CPU); False runs the equations as plain
            autograd ops. Defaults to True.
    """

    def __init__(self,
                 seq_len: int,
                 audio_channels: int,
                 video_channels: int,
                 k: int = 32,
                 fused: bool = True) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.fused = fused
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
        if not self.fused:
            return self._attend_reference(x, joint_t, w_j, w_x, w_c, w_h)
        # W_j J with tanh(u) = 2σ(2u) − 1's factor 2 and the 1/√d folded in
        # (an [B, L, d] product, not the [B, d_x, d] correlation)
        mixed = w_j(joint_t).transpose(1, 2) * (
            2 / math.sqrt(joint_t.shape[1]))  # [B, L, d]: 2 W_j J / √d
        inputs = (x, mixed, w_c.weight)  # W_c [k, d]
        device = x.device.type
        if torch.is_autocast_enabled(device):
            # a custom Function is not autocast: cast as bmm would be
            dtype = torch.get_autocast_dtype(device)
            inputs = tuple(t.to(dtype) for t in inputs)
        corr_proj = TanhCorrelationProject.apply(*inputs)  # [B, d_x, k]
        h = torch.relu(w_x(x.transpose(1, 2)) + corr_proj)  # [B, d_x, k]
        return w_h(h).transpose(1, 2) + x  # [B, L, d_x]

    def _attend_reference(self, x: torch.Tensor, joint_t: torch.Tensor,
                          w_j: nn.Linear, w_x: nn.Linear, w_c: nn.Linear,
                          w_h: nn.Linear) -> torch.Tensor:
        """``_attend`` as plain autograd ops, the equations as written
        (``fused=False``; the tests' reference)."""
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
