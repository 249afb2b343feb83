# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn

from mmemo.evaluation.functional import concordance_cc
from mmemo.registry import MODELS


@MODELS.register_module()
class CCCLoss(nn.Module):
    """``sum_d (1 - CCC_d)``: the JCA/JMT valence-arousal loss.

    The CCC of each target dimension is computed over all batch x time
    predictions flattened together (the JCA/JMT code), counting only the
    valid frames, and the ``1 - CCC`` terms are summed (``L_ccc(V) +
    L_ccc(A)``). Unlike MAVEN's official code the value keeps its
    gradient.

    Args:
        ddof (int): Delta degrees of freedom of the moments; the JCA/JMT
            code uses unbiased ones (1). Defaults to 1.
        loss_weight (float): Factor of the loss. Defaults to 1.
        eps (float): Added to the CCC's denominator. Defaults to 1e-8.
    """

    def __init__(self,
                 ddof: int = 1,
                 loss_weight: float = 1.0,
                 eps: float = 1e-8) -> None:
        super().__init__()
        self.ddof = ddof
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): ``[..., D]`` predictions, e.g. ``[B, L, 2]``.
            target (Tensor): Targets of the same shape.
            mask (Tensor, optional): ``[...]`` bool, e.g. ``[B, L]``:
                the frames that count (annotated, not padding).

        Returns:
            Tensor: The scalar loss (0 with a zero gradient when no frame
            is valid).
        """
        dims = pred.shape[-1]
        pred = pred.reshape(-1, dims)  # [N, D]
        target = target.reshape(-1, dims).to(pred)  # [N, D]
        if mask is not None:
            mask = mask.reshape(-1).bool()  # [N]
        valid = pred if mask is None else pred[mask]  # [N', D]
        if len(valid) <= self.ddof:
            # no CCC to fit: 0, still in the graph (a zero gradient) so
            # that backward() and DDP work on an all-unannotated batch
            return valid.sum() * 0
        ccc = concordance_cc(
            pred, target, mask, ddof=self.ddof, eps=self.eps)  # [D]
        return self.loss_weight * (1 - ccc).sum().to(pred.dtype)
