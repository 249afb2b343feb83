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

    A sample may ask for its own window with ``clip_window = (start,
    duration)`` (seconds; ``duration`` None: this transform's ``duration``,
    else the rest of the media), e.g. the sliding windows of
    :class:`~mmemo.apis.AVInferencer`; a window that starts after the end of
    the media is an error naming the file.

    Required keys: ``total_frames``, ``avg_fps``, ``start_index``.
    Optional: ``clip_window``.

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
        request = results.get('clip_window')
        if request is not None:
            start = float(request[0] or 0.0)
            if request[1] is not None:
                duration = float(request[1])
            elif self.duration is None:
                duration = video_duration - start
        else:
            start = self._anchored_start(video_duration - duration)
        # frames whose start time lies inside [start, start + duration)
        first = int(np.ceil(start * fps - 1e-6))
        if request is not None and (first >= total or duration <= 0):
            raise ValueError(
                f'{results.get("filename", "?")}: the window starting at '
                f'{start:.3f} s lies after the end of the media '
                f'({video_duration:.3f} s)')
        last = min(total, int(np.ceil((start + duration) * fps - 1e-6)))
        results['av_window'] = (start, start + duration)
        results['start_index'] = results['start_index'] + first
        results['total_frames'] = max(1, last - first)
        return results

    def _anchored_start(self, spare: float) -> float:
        """Start of the window in a video ``spare`` seconds longer."""
        if spare <= 0:
            return 0.0
        if self.anchor == 'center':
            return spare / 2
        if self.anchor == 'start':
            return 0.0
        if self.anchor == 'end':
            return spare
        return float(np.random.uniform(0, spare))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(duration={self.duration}, '
                f'anchor={self.anchor!r})')
