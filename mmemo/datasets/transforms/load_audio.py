# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..errors import BadSampleError
from ..media import decode_audio


@TRANSFORMS.register_module()
class LoadAudio(BaseTransform):
    """Decode a sample's audio: a separate file or the video's own track.

    PyAV decodes (wav, flv, mp4, mkv, ...), channels are averaged to mono and
    torchaudio resamples to ``sample_rate``. The whole track is kept;
    :class:`SampleAlignedAudio` cuts the window that matches the frames.

    Required keys: ``audio_path`` (a separate file) or ``filename`` (the
    video). Optional: ``video_duration`` and ``audio_offset`` from
    :class:`AVInit`.

    Added keys: ``audio`` (float32 ``[S]``), ``audio_sample_rate``,
    ``audio_offset`` (time of the first sample relative to the first video
    frame, s: the container's own offset for its track, 0 for a separate
    file, which is taken to start with the video), ``audio_duration``.

    Args:
        sample_rate (int, optional): Target rate in Hz; None keeps the
            file's. Defaults to 16000.
        source (str): ``'auto'`` (``audio_path`` when the sample has one,
            else the video's track), ``'file'`` or ``'video'``.
        short_audio (str): What an audio track that ends more than
            ``max_shortfall`` seconds before the video is: ``'error'``
            (a :class:`BadSampleError`) or ``'pad'`` (allowed; the missing
            part is padded later). Defaults to ``'error'``.
        max_shortfall (float): Tolerance in seconds. Defaults to 0.5.
    """

    def __init__(self,
                 sample_rate: Optional[int] = 16000,
                 source: str = 'auto',
                 short_audio: str = 'error',
                 max_shortfall: float = 0.5) -> None:
        assert source in ('auto', 'file', 'video'), source
        assert short_audio in ('error', 'pad'), short_audio
        self.sample_rate = sample_rate
        self.source = source
        self.short_audio = short_audio
        self.max_shortfall = max_shortfall

    def _path(self, results: Dict) -> tuple:
        audio_path = results.get('audio_path')
        if self.source == 'file' or (self.source == 'auto' and audio_path):
            if not audio_path:
                raise BadSampleError(
                    results.get('filename', '?'),
                    'sample has no separate audio file')
            return audio_path, True
        return results['filename'], False

    def transform(self, results: Dict) -> Dict:
        """Decode, mix down and resample the audio.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        path, separate = self._path(results)
        if not separate and results.get('has_audio') is False:
            raise BadSampleError(path, 'has no audio track')
        samples, rate, _ = decode_audio(path, self.sample_rate)
        offset = 0.0 if separate else results.get('audio_offset', 0.0)
        duration = len(samples) / rate
        video_duration = results.get('video_duration')
        if (self.short_audio == 'error' and video_duration is not None
                and offset + duration < video_duration - self.max_shortfall):
            raise BadSampleError(
                path, f'audio track ({duration:.2f} s from {offset:+.2f} s) '
                f'is shorter than the video ({video_duration:.2f} s)')
        results['audio'] = samples
        results['audio_sample_rate'] = rate
        results['audio_offset'] = offset
        results['audio_duration'] = duration
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'source={self.source!r}, short_audio={self.short_audio!r}, '
                f'max_shortfall={self.max_shortfall})')
