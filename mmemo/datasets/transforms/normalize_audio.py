# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class NormalizeAudio(BaseTransform):
    """Normalise audio features (or a waveform).

    ``mode='utterance'``: each feature bin of ``[T, F]`` features (or the
    whole waveform ``[S]``) gets zero mean and unit variance over time, per
    sample; the features of a window's sub-clips, ``[L, T, F]``, per
    sub-clip. ``mode='global'``: ``(x - mean) / std`` with fixed
    statistics, e.g. JCA's ``mean=-14.8, std=19.895`` for dB log-mel.

    Required keys: ``audio``.

    Modified keys: ``audio``.

    Args:
        mode (str): ``'utterance'`` or ``'global'``.
            Defaults to ``'utterance'``.
        mean (float or sequence, optional): Global mean (per bin allowed).
        std (float or sequence, optional): Global std (per bin allowed).
        eps (float): Added to the standard deviation. Defaults to 1e-5.
    """

    def __init__(self,
                 mode: str = 'utterance',
                 mean: Optional[Union[float, Sequence[float]]] = None,
                 std: Optional[Union[float, Sequence[float]]] = None,
                 eps: float = 1e-5) -> None:
        assert mode in ('utterance', 'global'), mode
        if mode == 'global':
            assert mean is not None and std is not None, \
                "mode='global' needs mean and std"
        self.mode = mode
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.std = None if std is None else np.asarray(std, np.float32)
        self.eps = eps

    def transform(self, results: Dict) -> Dict:
        """Normalise ``results['audio']``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        audio = np.asarray(results['audio'], dtype=np.float32)
        if self.mode == 'utterance':
            # over time: axis 0 of [S] / [T, F], axis 1 of [L, T, F]
            axis = 0 if audio.ndim == 1 else -2
            mean = audio.mean(axis=axis, keepdims=True)
            std = audio.std(axis=axis, keepdims=True)
        else:
            mean, std = self.mean, self.std
        results['audio'] = ((audio - mean) / (std + self.eps)).astype(
            np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.mode!r}, '
                f'mean={self.mean}, std={self.std}, eps={self.eps})')
