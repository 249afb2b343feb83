# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SpecAugment(BaseTransform):
    """SpecAugment-style time and frequency masking of a feature map.

    Park et al., "SpecAugment", Interspeech 2019 (masking only, no time
    warping). Mask widths are drawn uniformly from ``[0, width]`` and their
    positions uniformly; NumPy's generator is used, as mmaction's random
    transforms do, so DataLoader workers are seeded by MMEngine.

    Required keys: ``audio`` (float ``[T, F]`` features).

    Modified keys: ``audio``.

    Args:
        num_freq_masks (int): Frequency masks. Defaults to 2.
        freq_mask_width (int): Largest frequency mask, in bins.
            Defaults to 8.
        num_time_masks (int): Time masks. Defaults to 2.
        time_mask_width (int): Largest time mask, in frames. Defaults to 20.
        mask_value (float or str): The fill: a number or ``'mean'`` (the
            feature map's mean). Defaults to ``'mean'``.
        prob (float): Probability of augmenting a sample. Defaults to 1.
    """

    def __init__(self,
                 num_freq_masks: int = 2,
                 freq_mask_width: int = 8,
                 num_time_masks: int = 2,
                 time_mask_width: int = 20,
                 mask_value: Union[float, str] = 'mean',
                 prob: float = 1.0) -> None:
        self.num_freq_masks = num_freq_masks
        self.freq_mask_width = freq_mask_width
        self.num_time_masks = num_time_masks
        self.time_mask_width = time_mask_width
        self.mask_value = mask_value
        self.prob = prob

    @staticmethod
    def _mask(feats: np.ndarray, axis: int, num: int, width: int,
              value: float) -> None:
        size = feats.shape[axis]
        for _ in range(num):
            w = np.random.randint(0, min(width, size) + 1)
            start = np.random.randint(0, size - w + 1)
            index = [slice(None)] * feats.ndim
            index[axis] = slice(start, start + w)
            feats[tuple(index)] = value

    def transform(self, results: Dict) -> Dict:
        """Mask the features in place (on a copy).

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if np.random.rand() >= self.prob:
            return results
        feats = np.array(results['audio'], dtype=np.float32)  # [T, F]
        value = float(feats.mean()) if self.mask_value == 'mean' else float(
            self.mask_value)
        self._mask(feats, 1, self.num_freq_masks, self.freq_mask_width, value)
        self._mask(feats, 0, self.num_time_masks, self.time_mask_width, value)
        results['audio'] = feats
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'num_freq_masks={self.num_freq_masks}, '
                f'freq_mask_width={self.freq_mask_width}, '
                f'num_time_masks={self.num_time_masks}, '
                f'time_mask_width={self.time_mask_width}, '
                f'mask_value={self.mask_value!r}, prob={self.prob})')
