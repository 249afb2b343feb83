# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.nn as nn

from mmemo.registry import MODELS


@MODELS.register_module()
class AdditiveAttentionPool(nn.Module):
    """Additive (Bahdanau) attention over positions, guided by a vector.

    ``α_p = softmax_p(wᵀ tanh(W x_p + U g))`` and the pooled
    ``Σ_p α_p x_p``. CFN-SR uses it with an audio vector guiding the
    spatio-temporal positions of a 3D-CNN map; without ``g`` it is plain
    attention pooling.

    The official JCA ``orig_cam.PositionAttn`` adds the projected guide
    the other way round (``guide_over='positions'``): ``U g`` holds one
    value per position (``hidden`` must equal P) and is added to every
    hidden unit of that position, ``wᵀ tanh(W x_p + (U g)_p)``.

    Args:
        x_dim (int): Size of the position features.
        g_dim (int, optional): Size of the guide; None for no guide.
        hidden (int): Hidden size. Defaults to 128.
        score_bias (bool): Give ``w`` a bias, as CFN-SR's code does (it
            shifts every score alike, so the weights do not change; it only
            counts as a parameter). Defaults to False.
        x_bias (bool): Give ``W`` a bias (JCA's ``orig_cam`` has none).
            Defaults to True.
        guide_over (str): ``'hidden'`` (``U g`` added to every position)
            or ``'positions'`` (``(U g)_p`` added to every hidden unit of
            position p, as JCA's ``orig_cam`` broadcasts it).
            Defaults to ``'hidden'``.
    """

    def __init__(self,
                 x_dim: int,
                 g_dim: Optional[int] = None,
                 hidden: int = 128,
                 score_bias: bool = False,
                 x_bias: bool = True,
                 guide_over: str = 'hidden') -> None:
        super().__init__()
        assert guide_over in ('hidden', 'positions'), guide_over
        self.guide_over = guide_over
        self.x_proj = nn.Linear(x_dim, hidden, bias=x_bias)
        self.g_proj = nn.Linear(g_dim, hidden, bias=False) if g_dim else None
        self.score = nn.Linear(hidden, 1, bias=score_bias)

    def forward(
        self,
        x: torch.Tensor,
        g: Optional[torch.Tensor] = None,
        padding_mask: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Pool the positions.

        Args:
            x (Tensor): Positions ``[B, P, x_dim]``.
            g (Tensor, optional): Guide ``[B, g_dim]``.
            padding_mask (Tensor, optional): Bool ``[B, P]``, True at padded
                positions.

        Returns:
            tuple: The pooled ``[B, x_dim]`` and the weights ``[B, P]``.
        """
        h = self.x_proj(x)  # [B, P, hidden]
        if self.g_proj is not None:
            u = self.g_proj(g)  # [B, hidden]
            if self.guide_over == 'positions':
                assert u.shape[1] == h.shape[1], (
                    f"guide_over='positions' needs hidden == positions, got "
                    f'{u.shape[1]} and {h.shape[1]}')
                h = h + u[:, :, None]  # [B, P, hidden]
            else:
                h = h + u[:, None]  # [B, P, hidden]
        scores = self.score(torch.tanh(h)).squeeze(-1)  # [B, P]
        if padding_mask is not None:
            scores = scores.masked_fill(padding_mask, float('-inf'))
        alpha = scores.softmax(dim=-1)  # [B, P]
        return torch.einsum('bp,bpd->bd', alpha, x), alpha  # [B, x_dim]
