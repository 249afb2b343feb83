# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import check_window_decoded
from .sample_sub_clips import fill_padding


@TRANSFORMS.register_module()
class SubClipAudio(BaseTransform):
    """Cut, for every sub-clip of a window, the audio that ends with it.

    The JCA/JMT audio of Aff-Wild2: sub-clip ``j`` (the sub-clip whose last
    frame is ``j``) hears the audio from ``(j + 1) / fps - duration`` to the
    end of frame ``j``, ``(j + 1) / fps``; by default ``duration`` spans
    ``span_frames`` frames, i.e. frames ``j - 31 .. j``. Every cut has the
    same length, ``round(duration * rate)`` samples; what lies outside the
    track (before the start of the video, after the end of the audio) is
    zero, so the start of a video is left-padded. Padding targets (-1) reuse
    the audio of the last real target, as :class:`SampleSubClips` does with
    the frames.

    Times are relative to the first video frame; the track's own offset
    (``audio_offset``, from :class:`LoadAudio`) is taken into account. The
    frame rate is :class:`AVInit`'s ``avg_fps`` when the pipeline has it
    (the decoded video's own rate), else the sample's ``fps`` (e.g. from
    ``frames_fps.csv`` for face-image folders).

    Note:
        With ``duration=None`` the cut's length depends on the video's frame
        rate, so a batch mixing frame rates (Aff-Wild2 has 25, 30 and
        60 fps videos) has cuts of different lengths that cannot be
        stacked: give a fixed ``duration`` (JCA: 45,599 samples at 44.1 kHz,
        about 1.034 s) for such sets.

    Required keys: ``audio`` (float ``[S]``), ``audio_sample_rate``,
    ``target_frames``, and ``avg_fps`` or ``fps``. Optional:
    ``audio_offset`` (default 0).

    Modified keys: ``audio`` (float32 ``[L, round(duration * rate)]``).
    Added keys: ``audio_windows`` (float32 ``[L, 2]``, start and end of
    every cut in seconds from the first video frame).

    Args:
        duration (float, optional): Seconds per cut; None = ``span_frames /
            fps``. Defaults to None.
        span_frames (int): Frames a cut covers when ``duration`` is None.
            Defaults to 32.
    """

    def __init__(self,
                 duration: Optional[float] = None,
                 span_frames: int = 32) -> None:
        if duration is not None and duration <= 0:
            raise ValueError(f'duration must be > 0, got {duration}')
        if span_frames < 1:
            raise ValueError(f'span_frames must be >= 1, got {span_frames}')
        self.duration = duration
        self.span_frames = span_frames

    @staticmethod
    def _fps(results: Dict) -> float:
        fps = results.get('avg_fps') or results.get('fps')
        if not fps:
            name = results.get('filename', results.get('frame_dir', '?'))
            raise ValueError(
                f'{name}: SubClipAudio needs the frame rate: put AVInit in '
                'the pipeline or give the dataset the real fps (e.g. '
                'frames_fps for face-image folders)')
        return float(fps)

    def transform(self, results: Dict) -> Dict:
        """Cut one fixed-length piece of audio per sub-clip.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        name = results.get('filename', results.get('frame_dir', '?'))
        audio = np.asarray(results['audio'], dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f'{name}: SubClipAudio cuts a mono waveform '
                             f'[S], got shape {audio.shape}')
        rate = results['audio_sample_rate']
        fps = self._fps(results)
        duration = self.span_frames / fps \
            if self.duration is None else self.duration
        length = int(round(duration * rate))
        ends = (fill_padding(results['target_frames'], name) + 1) / fps  # s
        offset = results.get('audio_offset', 0.0)
        # sample index of each cut's end in the track; the start follows
        # from the fixed length, so all cuts have exactly `length` samples
        last = np.round((ends - offset) * rate).astype(np.int64)
        first = last - length
        cuts = np.zeros((len(last), length), np.float32)
        for cut, lo, hi in zip(cuts, first, last):
            check_window_decoded(results, int(lo), length)
            # the part of [lo, hi) the track covers; the rest stays zero
            a, b = max(lo, 0), min(hi, len(audio))
            if b > a:
                cut[a - lo:b - lo] = audio[a:b]
        results['audio'] = cuts  # [L, length]
        results['audio_windows'] = np.stack([ends - length / rate, ends],
                                            axis=1).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(duration={self.duration}, '
                f'span_frames={self.span_frames})')
