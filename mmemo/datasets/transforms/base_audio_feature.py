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
        waveform = torch.from_numpy(
            np.ascontiguousarray(results['audio'],
                                 dtype=np.float32))[None]  # [1, S]
        with torch.no_grad():
            feats = self.compute(waveform)  # [T, F]
        results['audio'] = feats.numpy().astype(np.float32)
        results['audio_feature_rate'] = self.sample_rate / self.hop_length
        return results
