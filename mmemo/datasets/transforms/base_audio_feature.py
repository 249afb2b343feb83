# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform


class BaseAudioFeature(BaseTransform):
    """Turn the waveform in ``results['audio']`` into a feature map.

    Subclasses implement :meth:`compute`. The result replaces
    ``results['audio']`` as float32 ``[T, F]`` (time-major, as mmaction's
    audio features), and ``audio_feature_rate`` records frames per second.
    A batch of equal-length waveforms ``[L, S]`` (the sub-clips of a window,
    from :class:`SubClipAudio`) gives one feature map per row,
    ``[L, T, F]``.

    Args:
        sample_rate (int): The rate the waveform must have (checked, so a
            config cannot silently compute features at the wrong rate).
        hop_length (int): Hop in samples, for ``audio_feature_rate``.
    """

    def __init__(self, sample_rate: int, hop_length: int) -> None:
        self.sample_rate = sample_rate
        self.hop_length = hop_length

    def compute(self, waveform: torch.Tensor) -> torch.Tensor:
        """Compute features of a ``[1, S]`` waveform as ``[T, F]``."""
        raise NotImplementedError

    def transform(self, results: Dict) -> Dict:
        """Replace the waveform by its features.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        rate = results['audio_sample_rate']
        if rate != self.sample_rate:
            raise ValueError(
                f'{self.__class__.__name__} expects {self.sample_rate} Hz '
                f'audio, got {rate} Hz: set LoadAudio(sample_rate='
                f'{self.sample_rate}) in the pipeline')
        audio = np.ascontiguousarray(results['audio'], dtype=np.float32)
        if audio.ndim not in (1, 2):
            raise ValueError(
                f'{self.__class__.__name__} expects a waveform [S] or a '
                f'batch of waveforms [L, S], got shape {audio.shape}')
        # compute() takes one [1, S] waveform: row by row, as not every
        # feature (Kaldi fbank) accepts a batch
        rows = audio[None] if audio.ndim == 1 else audio
        with torch.no_grad():
            feats = [
                self.compute(torch.from_numpy(row)[None]).numpy()
                for row in rows
            ]  # each [T, F]
        feats = np.stack(feats).astype(np.float32)  # [L, T, F]
        results['audio'] = feats[0] if audio.ndim == 1 else feats
        results['audio_feature_rate'] = self.sample_rate / self.hop_length
        return results
