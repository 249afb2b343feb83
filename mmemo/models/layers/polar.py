# Copyright (c) mmemo contributors. All rights reserved.
"""Polar valence/arousal: MAVEN predicts an angle and an intensity
``(theta, I)`` per frame instead of ``(valence, arousal)``.

``valence = I cos(theta)``, ``arousal = I sin(theta)``; back, ``theta =
atan2(arousal, valence)`` in ``(-pi, pi]`` and ``I = sqrt(v^2 + a^2)``.
Angles are compared with :func:`angular_difference`, so ``-pi + e`` and
``pi - e`` are ``2e`` apart, not ``2 pi - 2e``.
"""
import math

import torch


def to_va(polar: torch.Tensor) -> torch.Tensor:
    """``(theta, I)`` -> ``(valence, arousal)``.

    Continuous in ``theta`` (any real value, no wrap needed).

    Args:
        polar (Tensor): ``[..., 2]``, angle (radians) and intensity.

    Returns:
        Tensor: ``[..., 2]``, ``I cos(theta)`` and ``I sin(theta)``.
    """
    theta, intensity = polar.unbind(-1)  # [...], [...]
    return torch.stack(
        [intensity * torch.cos(theta), intensity * torch.sin(theta)],
        -1)  # [..., 2]


def va_to_polar(va: torch.Tensor) -> torch.Tensor:
    """``(valence, arousal)`` -> ``(theta, I)``, the targets of MAVEN's
    code.

    Args:
        va (Tensor): ``[..., 2]`` valence, arousal.

    Returns:
        Tensor: ``[..., 2]``, ``theta = atan2(a, v)`` in ``(-pi, pi]``
        (0 at the origin) and ``I = sqrt(v^2 + a^2) >= 0``.
    """
    valence, arousal = va.unbind(-1)  # [...], [...]
    return torch.stack(
        [torch.atan2(arousal, valence),
         torch.hypot(valence, arousal)], -1)  # [..., 2]


def angular_difference(theta: torch.Tensor,
                       target: torch.Tensor) -> torch.Tensor:
    """``theta - target`` wrapped to ``[-pi, pi)``.

    Args:
        theta (Tensor): Angles (radians), any real values.
        target (Tensor): Angles of the same shape.

    Returns:
        Tensor: The signed shortest difference; its gradient w.r.t.
        ``theta`` is 1 (except exactly at the wrap).
    """
    return torch.remainder(theta - target + math.pi,
                           2 * math.pi) - math.pi  # [...]
