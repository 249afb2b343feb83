# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import warn_once
from ..media import (media_cached, media_duration, open_container,
                     probe_video)


@TRANSFORMS.register_module()
class AVInit(BaseTransform):
    """Open a video with PyAV and read its real length, rate and timing.

    The audio-visual counterpart of mmaction's ``PyAVInit``: it also counts
    frames in containers whose header has no count (FLV, MPEG-PS), refuses
    truncated files and files without a decodable frame (naming the file),
    and records what the aligned audio needs. mmaction's frame samplers
    (``SampleFrames``, ``UniformSample``) and ``PyAVDecode`` follow it.

    **Missing video**: a sample whose ``missing_modalities`` holds
    ``'video'`` (an audio file given alone, e.g. by
    :class:`~mmemo.apis.AVInferencer`) gets a virtual video of blank frames
    at ``blank_fps``, as long as its audio (``audio_path``, else
    ``filename``): the samplers and :class:`AVDecode` then run as usual and
    the recognizers zero the video input.

    A sample may carry a ``media_cache`` dict that its caller keeps across
    calls on the same file (the sliding windows of
    :class:`~mmemo.apis.AVInferencer`): the probe is then made once.

    Required keys: ``filename``. Optional: ``missing_modalities``,
    ``audio_path``, ``media_cache``.

    Added keys: ``video_reader``, ``total_frames``, ``avg_fps``,
    ``video_start_time``, ``video_duration``, ``has_audio``,
    ``audio_offset`` (start of the container's audio track relative to its
    first video frame, in seconds; 0 without a track), ``video_frame_pts``
    (the frames' packet timestamps, for :class:`AVDecode`; None when
    unusable) and ``media_report['video']`` (codec, fps, frames, duration,
    width, height).

    Args:
        truncation_tolerance (float): Seconds of video a file may lack
            against its header before it counts as truncated.
            Defaults to 0.1.
        blank_fps (float): Frame rate of the blank video of a sample whose
            video is missing. Defaults to 25.0.
    """

    def __init__(self,
                 truncation_tolerance: float = 0.1,
                 blank_fps: float = 25.0) -> None:
        self.truncation_tolerance = truncation_tolerance
        self.blank_fps = blank_fps

    def _blank_video(self, results: Dict) -> Dict:
        """A virtual video of blank frames as long as the audio."""
        audio = results.get('audio_path') or results['filename']
        total = max(1, int(round(media_duration(audio) * self.blank_fps)))
        results['video_reader'] = None
        results['total_frames'] = total
        results['avg_fps'] = self.blank_fps
        results['video_start_time'] = 0.0
        results['video_duration'] = total / self.blank_fps
        results['has_audio'] = True
        results['audio_offset'] = 0.0
        results['video_frame_pts'] = None
        return results

    def transform(self, results: Dict) -> Dict:
        """Probe the video and leave an open container for decoding.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if 'video' in results.get('missing_modalities', ()):
            return self._blank_video(results)
        path = results['filename']
        info = media_cached(
            results, ('probe_video', path, self.truncation_tolerance),
            lambda: probe_video(path, self.truncation_tolerance))
        if info.demux_error:
            warn_once(
                path, 'video', 'reading stopped early at '
                f'{info.duration:.2f} s ({info.demux_error})')
        results['video_reader'] = open_container(path)
        results['total_frames'] = info.num_frames
        results['avg_fps'] = info.fps
        results['video_start_time'] = info.start_time
        results['video_duration'] = info.duration
        results['has_audio'] = info.has_audio
        results['audio_offset'] = (
            info.audio_start_time - info.start_time if info.has_audio else 0.0)
        results['video_frame_pts'] = info.frame_pts
        results.setdefault('media_report', {})['video'] = dict(
            codec=info.codec,
            fps=round(info.fps, 3),
            frames=info.num_frames,
            duration=round(info.duration, 3),
            width=info.width,
            height=info.height)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'truncation_tolerance={self.truncation_tolerance}, '
                f'blank_fps={self.blank_fps})')
