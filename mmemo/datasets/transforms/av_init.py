# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import warn_once
from ..media import open_container, probe_video


@TRANSFORMS.register_module()
class AVInit(BaseTransform):
    """Open a video with PyAV and read its real length, rate and timing.

    The audio-visual counterpart of mmaction's ``PyAVInit``: it also counts
    frames in containers whose header has no count (FLV, MPEG-PS), refuses
    truncated files and files without a decodable frame (naming the file),
    and records what the aligned audio needs. mmaction's frame samplers
    (``SampleFrames``, ``UniformSample``) and ``PyAVDecode`` follow it.

    Required keys: ``filename``.

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
    """

    def __init__(self, truncation_tolerance: float = 0.1) -> None:
        self.truncation_tolerance = truncation_tolerance

    def transform(self, results: Dict) -> Dict:
        """Probe the video and leave an open container for decoding.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        path = results['filename']
        info = probe_video(path, self.truncation_tolerance)
        if info.demux_error:
            warn_once(path, 'video', 'reading stopped early at '
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
                f'truncation_tolerance={self.truncation_tolerance})')
