# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AVClipWindow(BaseTransform):
    """Choose one time window of a clip for both its frames and its audio.

    It narrows ``start_index``/``total_frames`` to the frames inside the
    window, so mmaction's samplers (``UniformSample``, ``SampleFrames``) that
    follow pick frames only there, and records the window for
    :class:`SampleAlignedAudio`. E.g. AVT-CA: a centred 3.6 s window, 15
    frames spread evenly over it, the audio of the same 3.6 s.

    A video shorter than ``duration`` keeps all its frames; the window then
    starts at its first frame and lasts ``duration`` (the audio is padded).

    Required keys: ``total_frames``, ``avg_fps``, ``start_index``.

    Added or modified keys: ``av_window`` (start, end) in seconds from the
    first video frame, ``start_index``, ``total_frames``.

    Args:
        duration (float, optional): Window length in seconds; None takes the
            whole video. Defaults to None.
        anchor (str): Where a shorter window sits in the video: ``'center'``,
            ``'start'``, ``'end'`` (e.g. where an expression builds up and
            holds) or ``'random'`` (uniform; for training).
            Defaults to ``'center'``.
    """

    def __init__(self,
                 duration: Optional[float] = None,
                 anchor: str = 'center') -> None:
        assert anchor in ('center', 'start', 'end', 'random'), anchor
        self.duration = duration
        self.anchor = anchor

    def transform(self, results: Dict) -> Dict:
        """Set the window and the frame range the samplers may use.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        fps = results['avg_fps']
        total = results['total_frames']
        video_duration = total / fps
        duration = video_duration if self.duration is None else self.duration
        spare = video_duration - duration
        if spare <= 0:
            start = 0.0
        elif self.anchor == 'center':
            start = spare / 2
        elif self.anchor == 'start':
            start = 0.0
        elif self.anchor == 'end':
            start = spare
        else:
            start = float(np.random.uniform(0, spare))
        # frames whose start time lies inside [start, start + duration)
        first = int(np.ceil(start * fps - 1e-6))
        last = min(total, int(np.ceil((start + duration) * fps - 1e-6)))
        results['av_window'] = (start, start + duration)
        results['start_index'] = results['start_index'] + first
        results['total_frames'] = max(1, last - first)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(duration={self.duration}, '
                f'anchor={self.anchor!r})')
