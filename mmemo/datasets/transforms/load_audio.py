# Copyright (c) mmemo contributors. All rights reserved.
import math
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import check_av_lengths, decode_audio_track, warn_once
from ..errors import BadSampleError
from ..media import media_cached


@TRANSFORMS.register_module()
class LoadAudio(BaseTransform):
    """Decode a sample's audio: a separate file or the video's own track.

    PyAV decodes (wav, flv, mp4, mkv, ...) as ``ffmpeg`` does: a corrupt
    packet is skipped, counted and its time filled with silence
    (:func:`~mmemo.datasets.decoding.decode_audio_track`); any channel
    layout is averaged to mono and torchaudio resamples to
    ``sample_rate``. NaN or infinite samples are an error naming the file.
    The whole track is kept; :class:`SampleAlignedAudio` (or
    :class:`SubClipAudio`) cuts the window that matches the frames and
    refuses a window less than ``min_decoded_fraction`` of which was
    decoded.

    **Length policy** (with :class:`AVInit` before it): audio that ends
    early or starts late is padded with silence, audio outside the video is
    dropped, each up to ``max_length_mismatch`` seconds; beyond that the
    sample is bad. The same step runs in training, validation, testing,
    inference and ``tools/data/check_dataset.py``.

    **Missing audio**: a sample whose ``missing_modalities`` holds
    ``'audio'`` (a video without an audio track given to
    :class:`~mmemo.apis.AVInferencer`) gets silence as long as the video, at
    ``sample_rate`` (16 kHz when None); the recognizers zero the audio
    input.

    With a ``media_cache`` dict in the sample (see :class:`AVInit`) a file's
    track is decoded and resampled once.

    Required keys: ``audio_path`` (a separate file) or ``filename`` (the
    video). Optional: ``video_duration`` and ``audio_offset`` from
    :class:`AVInit`, ``missing_modalities``, ``media_cache``.

    Added keys: ``audio`` (float32 ``[S]``), ``audio_sample_rate``,
    ``audio_offset`` (time of the first sample relative to the first video
    frame, s: the container's own offset for its track, 0 for a separate
    file, which is taken to start with the video), ``audio_duration``,
    ``audio_file``, ``audio_gaps`` (``[K, 2]`` sample ranges filled for
    corrupt packets), ``audio_min_decoded_fraction``, and in
    ``media_report``: ``audio`` (codec, rate, channels, duration, offset),
    ``audio_padded`` / ``audio_trimmed`` (s), ``audio_corrupt_packets``,
    ``audio_concealed_packets``.

    Args:
        sample_rate (int, optional): Target rate in Hz; None keeps the
            file's. Defaults to 16000.
        source (str): ``'auto'`` (``audio_path`` when the sample has one,
            else the video's track), ``'file'`` or ``'video'``.
        max_length_mismatch (float, optional): Seconds of padding (audio
            shorter than the video or starting late) and, separately, of
            trimming (audio beyond the video) that are accepted; None
            accepts any. Defaults to 1.0: real RAVDESS and CREMA-D trees
            hold tracks up to 0.61 s shorter than their videos.
        min_decoded_fraction (float): Share of the audio window that must
            come from decoded packets (not from silence filled in for
            corrupt ones). Defaults to 0.75.
    """

    def __init__(self,
                 sample_rate: Optional[int] = 16000,
                 source: str = 'auto',
                 max_length_mismatch: Optional[float] = 1.0,
                 min_decoded_fraction: float = 0.75) -> None:
        assert source in ('auto', 'file', 'video'), source
        assert 0 <= min_decoded_fraction <= 1, min_decoded_fraction
        self.sample_rate = sample_rate
        self.source = source
        self.max_length_mismatch = max_length_mismatch
        self.min_decoded_fraction = min_decoded_fraction

    def _path(self, results: Dict) -> tuple:
        audio_path = results.get('audio_path')
        if self.source == 'file' or (self.source == 'auto' and audio_path):
            if not audio_path:
                raise BadSampleError(
                    results.get('filename', '?'),
                    'sample has no separate audio file')
            return audio_path, True
        return results['filename'], False

    def _silence(self, results: Dict) -> Dict:
        """Silence over the whole video."""
        rate = self.sample_rate or 16000
        duration = results.get('video_duration') or (results['total_frames'] /
                                                     results['avg_fps'])
        samples = int(math.ceil(duration * rate))
        results['audio'] = np.zeros(max(samples, 1), np.float32)
        results['audio_sample_rate'] = rate
        results['audio_offset'] = 0.0
        results['audio_duration'] = duration
        return results

    def transform(self, results: Dict) -> Dict:
        """Decode, mix down and resample the audio; apply the length policy.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if 'audio' in results.get('missing_modalities', ()):
            return self._silence(results)
        path, separate = self._path(results)
        if not separate and results.get('has_audio') is False:
            raise BadSampleError(path, 'has no audio track')
        track = media_cached(
            results, ('decode_audio_track', path, self.sample_rate),
            lambda: decode_audio_track(path, self.sample_rate))
        warn_once(path, 'audio', track.problems())
        offset = 0.0 if separate else results.get('audio_offset', 0.0)
        report = results.setdefault('media_report', {})
        report['audio'] = dict(
            codec=track.codec,
            rate=track.source_rate,
            channels=track.channels,
            duration=round(track.duration, 3),
            offset=round(offset, 3))
        report['audio_corrupt_packets'] = track.corrupt_packets
        report['audio_concealed_packets'] = track.concealed_packets
        video_duration = results.get('video_duration')
        if video_duration is not None:
            report.update(
                check_av_lengths(path, video_duration, offset, track.duration,
                                 self.max_length_mismatch))
        results['audio'] = track.samples
        results['audio_sample_rate'] = track.rate
        results['audio_offset'] = offset
        results['audio_duration'] = track.duration
        results['audio_file'] = path
        results['audio_gaps'] = track.gaps
        results['audio_min_decoded_fraction'] = self.min_decoded_fraction
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'source={self.source!r}, '
                f'max_length_mismatch={self.max_length_mismatch}, '
                f'min_decoded_fraction={self.min_decoded_fraction})')
