# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmemo.registry import MODELS


@MODELS.register_module()
class CrossAttention(nn.Module):
    """Multi-head attention of one token sequence over another.

    ``x = Proj(SDPA(LN_q(q) W_q, LN_kv(kv) W_k, LN_kv(kv) W_v))``, then an
    optional feed-forward ``x = x + MLP(LN(x))`` and an optional residual
    around the attention (``q + x``, which needs ``q_dim == out_dim``). The
    attention is PyTorch's fused ``scaled_dot_product_attention``.

    Configurations used by the models:

    - AVT-CA ``av1``/``va1``: ``pre_ln_q=pre_ln_kv=True, qkv_bias=False,
      ffn_ratio=2, residual='none'`` (the residual is added outside);
    - a plain MHA (AVT-CA's final attention, JMT / MAVEN pathways):
      ``pre_ln_*=False, ffn_ratio=None, qkv_bias=True``.

    Args:
        q_dim (int): Query token size.
        kv_dim (int): Key/value token size.
        out_dim (int, optional): Output size; defaults to ``q_dim``.
        num_heads (int): Attention heads. Defaults to 8.
        head_dim (int, optional): Size per head; defaults to
            ``out_dim // num_heads``.
        pre_ln_q (bool): LayerNorm on the queries. Defaults to True.
        pre_ln_kv (bool): LayerNorm on the keys/values. Defaults to True.
        qkv_bias (bool): Bias in the q/k/v projections. Defaults to False.
        attn_drop (float): Dropout on the attention weights.
        proj_drop (float): Dropout after the output projection.
        ffn_ratio (float, optional): Hidden size of the feed-forward block
            relative to ``out_dim``; None for no feed-forward.
            Defaults to 2.
        residual (str): ``'none'`` or ``'add_q'`` (``q + attention`` before
            the feed-forward). Defaults to ``'none'``.
        norm_eps (float): Epsilon of the pre-LayerNorms. Defaults to 1e-5.
    """

    def __init__(self,
                 q_dim: int,
                 kv_dim: int,
                 out_dim: Optional[int] = None,
                 num_heads: int = 8,
                 head_dim: Optional[int] = None,
                 pre_ln_q: bool = True,
                 pre_ln_kv: bool = True,
                 qkv_bias: bool = False,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 ffn_ratio: Optional[float] = 2.,
                 residual: str = 'none',
                 norm_eps: float = 1e-5) -> None:
        super().__init__()
        out_dim = out_dim or q_dim
        head_dim = head_dim or out_dim // num_heads
        inner_dim = num_heads * head_dim
        assert residual in ('none', 'add_q'), residual
        assert residual == 'none' or q_dim == out_dim, \
            "residual='add_q' needs q_dim == out_dim"
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.residual = residual
        self.norm_q = nn.LayerNorm(
            q_dim, eps=norm_eps) if pre_ln_q else nn.Identity()
        self.norm_kv = nn.LayerNorm(
            kv_dim, eps=norm_eps) if pre_ln_kv else nn.Identity()
        self.to_q = nn.Linear(q_dim, inner_dim, bias=qkv_bias)
        self.to_k = nn.Linear(kv_dim, inner_dim, bias=qkv_bias)
        self.to_v = nn.Linear(kv_dim, inner_dim, bias=qkv_bias)
        self.proj = nn.Linear(inner_dim, out_dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.ffn = None
        if ffn_ratio:
            hidden = int(out_dim * ffn_ratio)
            self.ffn = nn.Sequential(
                nn.LayerNorm(out_dim), nn.Linear(out_dim, hidden), nn.GELU(),
                nn.Linear(hidden, out_dim))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, -1).transpose(1, 2)  # [B,H,N,d]

    def forward(
            self,
            q: torch.Tensor,
            kv: torch.Tensor,
            kv_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend from ``q`` to ``kv``.

        Args:
            q (Tensor): Queries ``[B, Nq, q_dim]``.
            kv (Tensor): Keys/values ``[B, Nk, kv_dim]``.
            kv_padding_mask (Tensor, optional): Bool ``[B, Nk]``, True at
                padded key positions (ignored by the attention).

        Returns:
            Tensor: ``[B, Nq, out_dim]``.
        """
        kv_in = self.norm_kv(kv)  # [B, Nk, kv_dim]
        query = self._heads(self.to_q(self.norm_q(q)))  # [B, H, Nq, d]
        key = self._heads(self.to_k(kv_in))  # [B, H, Nk, d]
        value = self._heads(self.to_v(kv_in))  # [B, H, Nk, d]
        mask = None
        if kv_padding_mask is not None:
            mask = ~kv_padding_mask[:, None, None, :]  # [B, 1, 1, Nk]
        x = F.scaled_dot_product_attention(
            query,
            key,
            value,
            attn_mask=mask,
            dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).flatten(2)  # [B, Nq, H * d]
        x = self.proj_drop(self.proj(x))  # [B, Nq, out_dim]
        if self.residual == 'add_q':
            x = x + q
        if self.ffn is not None:
            x = x + self.ffn(x)  # [B, Nq, out_dim]
        return x
