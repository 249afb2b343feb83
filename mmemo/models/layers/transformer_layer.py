# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn

from mmemo.registry import MODELS


@MODELS.register_module()
class TransformerEncoderLayer(nn.Module):
    """A transformer encoder layer with the variants the fusion models need.

    Self-attention is ``nn.MultiheadAttention`` (fused attention kernels).

    - ``norm='post'``: ``x = LN(x + MHA(x)); x = LN(x + FFN(x))`` (JMT);
    - ``norm='pre'``: ``x = x + MHA(LN(x)); x = x + FFN(LN(x))`` (CFN-SR);
    - ``norm='none'``: no LayerNorm; with ``residual=False`` and
      ``ffn_dim=None`` it is a bare self-attention MHA.

    Args:
        dim (int): Token size.
        num_heads (int): Attention heads.
        ffn_dim (int, optional): Feed-forward hidden size; None for none.
        norm (str): ``'post'``, ``'pre'`` or ``'none'``. Defaults to
            ``'post'``.
        residual (bool): Residual connections. Defaults to True.
        activation (str): ``'relu'`` or ``'gelu'``. Defaults to ``'relu'``.
        dropout (float): Dropout after attention and FFN. Defaults to 0.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        causal (bool): Mask future tokens. Defaults to False.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 ffn_dim: Optional[int] = None,
                 norm: str = 'post',
                 residual: bool = True,
                 activation: str = 'relu',
                 dropout: float = 0.,
                 attn_drop: float = 0.,
                 causal: bool = False) -> None:
        super().__init__()
        assert norm in ('post', 'pre', 'none'), norm
        self.norm = norm
        self.residual = residual
        self.causal = causal
        self.attn = nn.MultiheadAttention(
            dim, num_heads, dropout=attn_drop, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.ffn = None
        if ffn_dim:
            act = nn.ReLU() if activation == 'relu' else nn.GELU()
            self.ffn = nn.Sequential(
                nn.Linear(dim, ffn_dim), act, nn.Dropout(dropout),
                nn.Linear(ffn_dim, dim))
        use_norm = norm != 'none'
        self.norm1 = nn.LayerNorm(dim) if use_norm else nn.Identity()
        self.norm2 = nn.LayerNorm(dim) if use_norm and ffn_dim else \
            nn.Identity()

    def _attend(self, x: torch.Tensor,
                padding_mask: Optional[torch.Tensor]) -> torch.Tensor:
        mask = None
        if self.causal:
            n = x.shape[1]
            mask = torch.ones(
                n, n, dtype=torch.bool,
                device=x.device).triu(1)  # True = blocked
        out, _ = self.attn(
            x,
            x,
            x,
            key_padding_mask=padding_mask,
            attn_mask=mask,
            need_weights=False)
        return self.drop(out)  # [B, N, dim]

    def forward(self,
                x: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode a token sequence.

        Args:
            x (Tensor): Tokens ``[B, N, dim]``.
            padding_mask (Tensor, optional): Bool ``[B, N]``, True at
                padded positions.

        Returns:
            Tensor: ``[B, N, dim]``.
        """
        if self.norm == 'pre':
            h = self._attend(self.norm1(x), padding_mask)
            x = x + h if self.residual else h
            if self.ffn is not None:
                h = self.drop(self.ffn(self.norm2(x)))
                x = x + h if self.residual else h
            return x
        h = self._attend(x, padding_mask)
        x = self.norm1(x + h if self.residual else h)
        if self.ffn is not None:
            h = self.drop(self.ffn(x))
            x = self.norm2(x + h if self.residual else h)
        return x
