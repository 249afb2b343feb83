# Copyright (c) mmemo contributors. All rights reserved.
"""Modality-dropout batch augmentation (Chumachenko et al., ICPR 2022),
and the zeroing of a sample's missing modality that it trains for.

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


def zero_missing_modalities(inputs: Dict[str, torch.Tensor],
                            data_samples: List) -> Dict[str, torch.Tensor]:
    """Zero each sample's missing modalities, as modality dropout does.

    A sample without a video or an audio stream (an audio file, a silent
    video) carries ``missing_modalities`` in its metainfo (set by the
    loading transforms' caller, e.g. :class:`~mmemo.apis.AVInferencer`, or
    by ``tools/analysis_tools/robustness.py``); its blank frames or silence
    become zeros after the data preprocessor.

    Args:
        inputs (dict): Preprocessed tensors by modality, batch first.
        data_samples (list): The batch's data samples.

    Returns:
        dict: The inputs, with copies of the tensors that were zeroed.
    """
    rows: Dict[str, List[int]] = {}
    for i, sample in enumerate(data_samples or ()):
        for name in sample.metainfo.get('missing_modalities', ()):
            if name not in inputs:
                raise KeyError(f'missing modality {name!r} is not among the '
                               f'inputs {sorted(inputs)}')
            rows.setdefault(name, []).append(i)
    if not rows:
        return inputs
    inputs = dict(inputs)
    for name, index in rows.items():
        inputs[name] = inputs[name].clone()
        inputs[name][index] = 0
    return inputs
