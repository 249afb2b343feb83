# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import check_window_decoded


@TRANSFORMS.register_module()
class SampleAlignedAudio(BaseTransform):
    """Cut the audio that covers the same seconds as the sampled frames.

    The window is :class:`AVClipWindow`'s ``av_window`` when the pipeline has
    one (``window='auto'``/``'clip'``), else the span of the sampled frames,
    from the start of the first to the end of the last
    (``window='frames'``): the right choice for clip-level sampling such as
    ``SampleFrames(clip_len=32)``. Times are relative to the first video
    frame; the audio's own offset (``audio_offset``) is taken into account.
    Parts of the window that the audio track does not cover are padded. A
    window less than ``LoadAudio``'s ``min_decoded_fraction`` of which was
    decoded (the rest filled for corrupt packets) is a bad sample.

    Required keys: ``audio``, ``audio_sample_rate``, ``audio_offset``, and
    ``frame_inds`` + ``avg_fps`` (or ``av_window``).

    Added or modified keys: ``audio`` (float32 ``[S]``, the window only),
    ``audio_window`` (start, end) in seconds, ``video_window`` (start, end)
    of the sampled frames in seconds.

    Args:
        window (str): ``'auto'``, ``'clip'`` or ``'frames'``, see above.
        duration (float, optional): Force the output to this many seconds
            (crop or pad, keeping the window's start); None keeps the
            window's length. Defaults to None.
        offset (float): Seconds by which the window's start moves later
            (its end stays, unless ``duration`` is given). E.g. MSAF and
            CFN-SR read 2.45 s from 0.5 s into the clip: ``window='clip'``
            over the whole video, ``offset=0.5, duration=2.45``.
            Defaults to 0.
        pad_mode (str): ``'zero'`` or ``'edge'`` (repeat the nearest
            sample) for the uncovered parts. Defaults to ``'zero'``.
    """

    def __init__(self,
                 window: str = 'auto',
                 duration: Optional[float] = None,
                 pad_mode: str = 'zero',
                 offset: float = 0.) -> None:
        assert window in ('auto', 'clip', 'frames'), window
        assert pad_mode in ('zero', 'edge'), pad_mode
        self.window = window
        self.duration = duration
        self.offset = offset
        self.pad_mode = pad_mode

    def transform(self, results: Dict) -> Dict:
        """Cut and pad the audio window.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        rate = results['audio_sample_rate']
        video_window = None
        if 'frame_inds' in results:
            inds = np.asarray(results['frame_inds'])
            fps = results['avg_fps']
            video_window = (float(inds.min() / fps),
                            float((inds.max() + 1) / fps))
            results['video_window'] = video_window
        if self.window == 'frames' or (self.window == 'auto'
                                       and 'av_window' not in results):
            assert video_window is not None, 'no sampled frames to align to'
            start, end = video_window
        else:
            start, end = results['av_window']
        start += self.offset
        if self.duration is not None:
            end = start + self.duration
        # sample positions of the window in the audio track
        first = int(round((start - results['audio_offset']) * rate))
        length = int(round((end - start) * rate))
        check_window_decoded(results, first, length)
        results['audio'] = self._slice(results['audio'], first, length)
        results['audio_window'] = (start, start + length / rate)
        return results

    def _slice(self, audio: np.ndarray, first: int, length: int) -> np.ndarray:
        if len(audio) == 0:
            return np.zeros(length, np.float32)
        lo, hi = max(first, 0), min(first + length, len(audio))
        out = audio[lo:hi] if hi > lo else audio[:0]
        before, after = lo - first, length - (lo - first) - len(out)
        if before or after:
            mode = 'constant' if self.pad_mode == 'zero' else 'edge'
            if len(out) == 0:
                edge = audio[0] if first < 0 else audio[-1]
                out = np.full(length, edge if mode == 'edge' else 0.,
                              np.float32)
            else:
                out = np.pad(out, (before, after), mode=mode)
        return out.astype(np.float32)  # [S]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(window={self.window!r}, '
                f'duration={self.duration}, pad_mode={self.pad_mode!r}, '
                f'offset={self.offset})')
