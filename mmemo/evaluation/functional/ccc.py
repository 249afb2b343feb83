# Copyright (c) mmemo contributors. All rights reserved.
"""The concordance correlation coefficient, one implementation for the
``CCCLoss`` (differentiable, torch) and the ``CCCMetric``."""
from typing import Optional

import torch


def concordance_cc(pred: torch.Tensor,
                   target: torch.Tensor,
                   mask: Optional[torch.Tensor] = None,
                   ddof: int = 0,
                   eps: float = 0.) -> torch.Tensor:
    """CCC of each column, over every (valid) row.

    ``CCC = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)``. With
    ``ddof=0`` (default) the moments are population moments, as m3f's
    Aff-Wild2 evaluation; ``ddof=1`` uses unbiased ones in all three
    terms, as HiCMAE (``np.cov``) and the JCA/JMT training loss. An
    undefined CCC (zero denominator: a constant prediction equal to a
    constant target) is 0.

    Args:
        pred (Tensor): ``[N, D]`` (or ``[N]``) predictions.
        target (Tensor): Targets of the same shape.
        mask (Tensor, optional): ``[N]`` bool, the rows that count.
        ddof (int): Delta degrees of freedom (0 or 1). Defaults to 0.
        eps (float): Added to the denominator (the loss uses a small
            value to keep gradients finite). Defaults to 0.

    Returns:
        Tensor: ``[D]`` (or a scalar for 1-D input) CCC per column; 0
        where fewer than ``ddof + 1`` rows are valid.
    """
    assert pred.shape == target.shape, \
        f'pred {tuple(pred.shape)} and target {tuple(target.shape)} differ'
    squeeze = pred.ndim == 1
    if squeeze:
        pred, target = pred[:, None], target[:, None]  # [N, 1]
    if mask is not None:
        mask = mask.reshape(-1).bool()
        pred, target = pred[mask], target[mask]  # [N', D]
    pred, target = pred.double(), target.double()
    n = pred.shape[0]
    if n <= ddof:
        out = pred.new_zeros(pred.shape[1])
        return out[0] if squeeze else out
    mean_p, mean_t = pred.mean(0), target.mean(0)  # [D]
    dp, dt = pred - mean_p, target - mean_t  # [N, D]
    cov = (dp * dt).sum(0) / (n - ddof)  # [D]
    var_p = (dp**2).sum(0) / (n - ddof)  # [D]
    var_t = (dt**2).sum(0) / (n - ddof)  # [D]
    denom = var_p + var_t + (mean_p - mean_t)**2 + eps  # [D]
    ccc = torch.where(denom > 0, 2 * cov / denom.clamp_min(1e-300),
                      torch.zeros_like(denom))  # [D]
    return ccc[0] if squeeze else ccc
