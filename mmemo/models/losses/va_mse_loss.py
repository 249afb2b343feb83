# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn

from mmemo.evaluation.functional import concordance_cc
from mmemo.registry import MODELS
from ..layers.polar import angular_difference, va_to_polar


@MODELS.register_module()
class VAMSELoss(nn.Module):
    """MSE over the valid frames, optionally ``+ ccc_weight * (1 - mean
    CCC)``: MAVEN's valence/arousal loss.

    - ``space='va'`` (the paper): the squared errors of valence and
      arousal, averaged over both dimensions and the valid frames (the
      paper's ``1/N sum[(v - v')^2 + (a - a')^2]`` is twice this).
    - ``space='polar'`` (the code): the same on ``(theta, I)``, the
      targets converted with ``atan2``, the angle error taken as the
      :func:`angular_difference` (the code's plain difference makes
      ``-pi + e`` and ``pi - e`` far apart; ``angle_error='plain'``
      reproduces it). The prediction's own
      ``(theta, I)`` is used when given (``pred_polar``, as
      ``MAVENHead`` does), else it is recovered from ``pred``.

    The CCC term is ``1 - mean_d CCC_d`` on ``(v, a)`` over all valid
    frames of the batch flattened together
    (:func:`~mmemo.evaluation.functional.concordance_cc`); unlike the code,
    which takes it through ``.item()``, it keeps its gradient
    (``ccc_grad=False`` reproduces the code: the term then shifts the
    loss's value only). Masked frames count in neither term.

    Args:
        ccc_weight (float): Factor of the CCC term, 0 for none (the code:
            0.1). Defaults to 0.
        space (str): ``'va'`` or ``'polar'``. Defaults to ``'va'``.
        ddof (int): Delta degrees of freedom of the CCC's moments.
            Defaults to 1.
        ccc_grad (bool): Back-propagate the CCC term. Defaults to True.
        angle_error (str): ``'wrapped'`` (the shortest angle between
            prediction and target) or ``'plain'`` (``theta - theta'``, the
            code). Defaults to ``'wrapped'``.
        loss_weight (float): Factor of the whole loss. Defaults to 1.
        eps (float): Added to the CCC's denominator. Defaults to 1e-8.
    """

    def __init__(self,
                 ccc_weight: float = 0.,
                 space: str = 'va',
                 ddof: int = 1,
                 ccc_grad: bool = True,
                 angle_error: str = 'wrapped',
                 loss_weight: float = 1.0,
                 eps: float = 1e-8) -> None:
        super().__init__()
        if space not in ('va', 'polar'):
            raise ValueError(f"space must be 'va' or 'polar', got {space!r}")
        if angle_error not in ('wrapped', 'plain'):
            raise ValueError("angle_error must be 'wrapped' or 'plain', got "
                             f'{angle_error!r}')
        self.ccc_weight = ccc_weight
        self.ccc_grad = ccc_grad
        self.angle_error = angle_error
        self.space = space
        self.ddof = ddof
        self.loss_weight = loss_weight
        self.eps = eps

    @property
    def takes_pred_polar(self) -> bool:
        """Whether the loss is computed on ``(theta, I)``
        (``space='polar'``): a caller that has the prediction's own polar
        form passes it as ``pred_polar`` (``MAVENHead`` reads this)."""
        return self.space == 'polar'

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                pred_polar: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): ``[..., 2]`` predicted valence, arousal, e.g.
                ``[B, T, 2]``.
            target (Tensor): Targets of the same shape.
            mask (Tensor, optional): ``[...]`` bool, e.g. ``[B, T]``: the
                frames that count.
            pred_polar (Tensor, optional): ``[..., 2]`` the prediction's
                ``(theta, I)`` (``space='polar'``).

        Returns:
            Tensor: The scalar loss (0 with a zero gradient when no frame
            is valid).
        """
        pred = pred.reshape(-1, 2)  # [N, 2]
        target = target.reshape(-1, 2).to(pred)  # [N, 2]
        valid = torch.ones_like(pred[:, 0], dtype=torch.bool) \
            if mask is None else mask.reshape(-1).bool()  # [N]
        if not valid.any():
            # still in the graph, so backward() and DDP work
            return pred.sum() * 0
        if self.space == 'va':
            error = pred[valid] - target[valid]  # [N', 2]
        else:
            polar = va_to_polar(pred) if pred_polar is None else \
                pred_polar.reshape(-1, 2)  # [N, 2]
            goal = va_to_polar(target)  # [N, 2]
            angle = angular_difference(polar[valid, 0], goal[valid, 0]) \
                if self.angle_error == 'wrapped' else \
                polar[valid, 0] - goal[valid, 0]  # [N']
            error = torch.stack([angle, polar[valid, 1] - goal[valid, 1]],
                                -1)  # [N', 2]
        loss = error.pow(2).mean()
        if self.ccc_weight and int(valid.sum()) > self.ddof:
            ccc = concordance_cc(
                pred, target, valid, ddof=self.ddof, eps=self.eps)  # [2]
            term = (1 - ccc.mean()).to(loss.dtype)
            if not self.ccc_grad:
                term = term.detach()  # the code's .item()
            loss = loss + self.ccc_weight * term
        return self.loss_weight * loss
