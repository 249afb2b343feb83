# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ShiftAudio(BaseTransform):
    """Shift the audio track against the video (an A/V offset).

    A robustness perturbation: ``offset > 0`` delays the audio (it lags the
    video: what is heard at time t was recorded at t - offset), ``offset <
    0`` advances it. It moves the track's start (``audio_offset``, the time
    of its first sample relative to the first video frame), so the window
    that :class:`SampleAlignedAudio` or :class:`SubClipAudio` cuts next
    holds the audio of the seconds ``[start - offset, end - offset]``; the
    window keeps its length and the part the track no longer covers is
    padded as those transforms pad. Put it after :class:`LoadAudio` and
    before the transform that cuts the audio window.

    Required keys: ``audio_sample_rate``; optional ``audio_offset``
    (default 0).

    Modified keys: ``audio_offset``. Added keys: ``av_shift``.

    Args:
        offset (float): Seconds by which the audio is delayed (negative:
            advanced).
    """

    def __init__(self, offset: float) -> None:
        self.offset = float(offset)

    def transform(self, results: Dict) -> Dict:
        """Move the audio track's start.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        results['audio_offset'] = results.get('audio_offset',
                                              0.0) + self.offset
        results['av_shift'] = self.offset
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(offset={self.offset})'
