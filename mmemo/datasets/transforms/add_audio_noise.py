# Copyright (c) mmemo contributors. All rights reserved.
import zlib
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


def sample_rng(seed: int, results: Dict) -> np.random.Generator:
    """A generator seeded by ``seed`` and the sample's identity.

    The sample's ``sample_idx`` (or a CRC of its ``filename``) makes the
    draw the same whatever the order or the worker a sample is loaded in.
    """
    key = results.get('sample_idx')
    if key is None:
        key = zlib.crc32(str(results.get('filename', '')).encode())
    return np.random.default_rng([int(seed), int(key)])


@TRANSFORMS.register_module()
class AddAudioNoise(BaseTransform):
    """Add white Gaussian noise to the waveform at a given SNR.

    A robustness perturbation: the noise power is the power of the sample's
    own waveform (mean square over everything in ``audio``, i.e. the window
    that :class:`SampleAlignedAudio` or :class:`SubClipAudio` cut, padding
    included) divided by ``10 ** (snr_db / 10)``. A silent waveform stays
    silent. Put it on the waveform, before feature extraction (``MFCC``,
    ``LogMelSpectrogram``, ...).

    The noise is deterministic: drawn from ``seed`` and the sample's
    ``sample_idx`` (or its file name).

    Required keys: ``audio`` (a float waveform ``[S]``, or ``[L, S]`` for
    a window's sub-clips).

    Modified keys: ``audio``. Added keys: ``audio_snr_db``.

    Args:
        snr_db (float): Signal-to-noise ratio in dB.
        seed (int): Seed of the noise. Defaults to 0.
    """

    def __init__(self, snr_db: float, seed: int = 0) -> None:
        self.snr_db = float(snr_db)
        self.seed = seed

    def transform(self, results: Dict) -> Dict:
        """Add the noise.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        audio = np.asarray(results['audio'], dtype=np.float32)
        if audio.ndim not in (1, 2):
            raise ValueError('AddAudioNoise needs a waveform [S] or [L, S], '
                             f'got an array of shape {audio.shape}: put it '
                             'before the audio feature transform')
        power = float(np.mean(audio.astype(np.float64)**2)) \
            if audio.size else 0.
        std = np.sqrt(power / 10**(self.snr_db / 10))
        noise = sample_rng(self.seed, results).standard_normal(audio.shape)
        results['audio'] = (audio + std * noise).astype(np.float32)
        results['audio_snr_db'] = self.snr_db
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(snr_db={self.snr_db}, '
                f'seed={self.seed})')
