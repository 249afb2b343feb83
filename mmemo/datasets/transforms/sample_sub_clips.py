# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


def fill_padding(targets: np.ndarray, name: str = '?') -> np.ndarray:
    """Replace padding targets (-1) by the nearest earlier real target.

    A window that runs past the end of the video ends in padding; its
    sub-clips still need frames (or audio) to fill a fixed-size batch, so
    they reuse those of the last real target (its outputs are masked out).
    Padding before the first real target takes the first real one.

    Args:
        targets (np.ndarray): ``[L]`` target frames, -1 = padding.
        name (str): The video, for the error message.

    Returns:
        np.ndarray: ``[L]`` int64 target frames without padding.
    """
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    real = np.flatnonzero(targets >= 0)
    if len(real) == 0:
        raise ValueError(f'{name}: the window has no real target frame '
                         f'(target_frames={targets.tolist()})')
    # index of the last real target at or before each position
    last = np.maximum.accumulate(
        np.where(targets >= 0, np.arange(len(targets)), -1))
    last[last < 0] = real[0]
    return targets[last]


@TRANSFORMS.register_module()
class SampleSubClips(BaseTransform):
    """Sample the frames of the sub-clips that end at the target frames.

    The JCA/JMT windowing on Aff-Wild2: a window holds ``L`` sub-clips, each
    predicting the label of its *last* frame ``j``; sub-clip ``j`` keeps
    ``clip_len`` frames spaced ``frame_interval`` apart, ending at ``j``
    (``j - (clip_len - 1) * frame_interval, ..., j``; 8 frames at dilation 4
    cover the 32 frames ``j - 31 .. j`` but the first three). Indices before
    the first frame repeat frame 0 (the start of a video is left-padded);
    indices past ``total_frames - 1`` (set by :class:`AVInit`; an annotation
    may be a frame longer than the decoded video) repeat the last frame.
    Padding targets (-1, the window ran past the end of the video) reuse the
    frames of the last real target.

    ``num_clips`` = ``L`` and ``clip_len`` let mmaction's
    ``FormatShape('NCTHW')`` reshape the decoded frames to
    ``[L, C, clip_len, H, W]``. :class:`AVDecode` or
    :class:`LoadFaceFrames` decode ``frame_inds`` (repeated and unsorted
    indices allowed).

    Required keys: ``target_frames`` (int ``[L]``, -1 = padding).
    Optional: ``total_frames``.

    Added keys: ``frame_inds`` (int64 ``[L * clip_len]``, sub-clip after
    sub-clip), ``num_clips``, ``clip_len``, ``frame_interval``.

    Args:
        clip_len (int): Frames per sub-clip. Defaults to 8.
        frame_interval (int): Step between them. Defaults to 4.
    """

    def __init__(self, clip_len: int = 8, frame_interval: int = 4) -> None:
        if clip_len < 1 or frame_interval < 1:
            raise ValueError('clip_len and frame_interval must be >= 1, got '
                             f'{clip_len} and {frame_interval}')
        self.clip_len = clip_len
        self.frame_interval = frame_interval

    def transform(self, results: Dict) -> Dict:
        """Set ``frame_inds`` for the sub-clips of the window.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        name = results.get('filename', results.get('frame_dir', '?'))
        ends = fill_padding(results['target_frames'], name)  # [L]
        steps = np.arange(-(self.clip_len - 1), 1) * self.frame_interval
        inds = np.maximum(ends[:, None] + steps[None], 0)  # [L, clip_len]
        if results.get('total_frames'):
            inds = np.minimum(inds, results['total_frames'] - 1)
        results['frame_inds'] = inds.reshape(-1).astype(np.int64)
        results['num_clips'] = len(ends)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval})')
