# Copyright (c) mmemo contributors. All rights reserved.
import os.path as osp
from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..errors import BadSampleError
from .sample_sub_clips import fill_padding

MODALITIES = ('video', 'audio')


def cache_path(cache_dir: str, modality: str, video_id: str) -> str:
    """Where a feature cache holds one video's features of one modality:
    ``<cache_dir>/<modality>/<video_id>.npy``.

    The one definition of the cache layout, for the writer
    (:func:`mmemo.apis.extract_sub_clip_features`) and the reader
    (:class:`LoadSubClipFeatures`).

    Args:
        cache_dir (str): The cache folder.
        modality (str): E.g. ``'video'`` or ``'audio'``.
        video_id (str): The video.

    Returns:
        str: The ``.npy`` file.
    """
    return osp.join(cache_dir, modality, f'{video_id}.npy')


@TRANSFORMS.register_module()
class LoadSubClipFeatures(BaseTransform):
    """Read a window's sub-clip features from a feature cache.

    The cache (written by ``tools/misc/extract_va_features.py``, see
    :mod:`mmemo.apis.feature_cache`) holds one ``[num_frames, ...]`` array
    per video and modality (:func:`cache_path`): row ``j`` is the feature of
    the sub-clip whose last frame is ``j``. The arrays are memory-mapped, so
    a window reads only its ``L`` rows. Padding targets (``-1``, past the
    video's end) get the row of the nearest earlier real target
    (:func:`fill_padding`, as :class:`SampleSubClips` and
    :class:`SubClipAudio` give them its frames and audio): a head then sees
    the same window from the cache as from the decoded video.

    Required keys: ``video_id``, ``target_frames``.

    Added keys: ``<modality>_feats`` (float32 ``[L, ...]``) per modality.

    Args:
        feature_dir (str): The cache folder.
        modalities (sequence of str): Defaults to ``('video', 'audio')``.
    """

    def __init__(self,
                 feature_dir: str,
                 modalities: Sequence[str] = MODALITIES) -> None:
        self.feature_dir = feature_dir
        self.modalities = tuple(modalities)
        self._arrays: Dict[str, np.ndarray] = {}  # open memmaps, per worker

    def _array(self, modality: str, video_id: str) -> np.ndarray:
        path = cache_path(self.feature_dir, modality, video_id)
        if path not in self._arrays:
            if not osp.exists(path):
                raise BadSampleError(
                    path, f'no cached {modality} features for {video_id!r}:'
                    ' run tools/misc/extract_va_features.py first')
            self._arrays[path] = np.load(path, mmap_mode='r')
        return self._arrays[path]

    def transform(self, results: Dict) -> Dict:
        """Gather the rows of the window's target frames.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        # padding repeats the last real sub-clip, exactly as decoding does
        frames = fill_padding(results['target_frames'], results['video_id'])
        for modality in self.modalities:
            array = self._array(modality, results['video_id'])
            if frames.max() >= len(array):
                raise BadSampleError(
                    array.filename or results['video_id'],
                    f'the cache has {len(array)} frames, the window asks '
                    f'for frame {frames.max()}: stale cache?')
            results[f'{modality}_feats'] = np.asarray(array[frames],
                                                      np.float32)  # [L, ...]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(feature_dir='
                f'{self.feature_dir!r}, modalities={self.modalities})')
