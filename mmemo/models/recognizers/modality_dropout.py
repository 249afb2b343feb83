# Copyright (c) mmemo contributors. All rights reserved.
"""Modality-dropout batch augmentation (Chumachenko et al., ICPR 2022).

AVT-CA trains with it so that the model copes with a missing or degraded
modality. Inputs here are the preprocessed tensors, batch first.
"""
from typing import Dict, List, Tuple

import torch


def _scaled(x: torch.Tensor, coeff: torch.Tensor) -> torch.Tensor:
    return x * coeff.view(-1, *([1] * (x.ndim - 1)))


def modality_dropout(inputs: Dict[str, torch.Tensor], data_samples: List,
                     mode: str) -> Tuple[Dict[str, torch.Tensor], List]:
    """Enlarge a batch with degraded copies of its modalities.

    - ``'softhard'`` (×4): the clean batch; audio scaled by α and video by
      1 − α, with α per sample in {0, 0.01, ..., 0.99}; audio zeroed; video
      zeroed.
    - ``'noise'`` (×3): the clean batch; audio replaced by Gaussian noise;
      video replaced by Gaussian noise.

    Args:
        inputs (dict): ``audio`` and ``video`` tensors, batch first.
        data_samples (list): The batch's data samples (repeated along).
        mode (str): ``'softhard'`` or ``'noise'``.

    Returns:
        tuple: The enlarged inputs and data samples.
    """
    audio, video = inputs['audio'], inputs['video']
    if mode == 'softhard':
        alpha = torch.randint(
            0, 100, (audio.shape[0], ), device=audio.device) / 100
        audio = torch.cat(
            [audio,
             _scaled(audio, alpha),
             torch.zeros_like(audio), audio])
        video = torch.cat(
            [video,
             _scaled(video, 1 - alpha), video,
             torch.zeros_like(video)])
        copies = 4
    elif mode == 'noise':
        audio = torch.cat([audio, torch.randn_like(audio), audio])
        video = torch.cat([video, video, torch.randn_like(video)])
        copies = 3
    else:
        raise ValueError(f'unknown modality dropout mode {mode!r}')
    return dict(inputs, audio=audio, video=video), data_samples * copies
