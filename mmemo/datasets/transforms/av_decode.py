# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional, Sequence, Tuple

import av
import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import decode_video_frames, ffmpeg_errors, warn_once
from ..media import open_container


@TRANSFORMS.register_module()
class AVDecode(BaseTransform):
    """Decode the sampled frames of the video opened by :class:`AVInit`.

    Replaces mmaction's ``PyAVDecode``, which converts every frame up to the
    last sampled one to RGB and silently repeats frames (``imgs[i %
    len(imgs)]``) when a file yields fewer frames than expected. Here only
    the sampled frames are converted, and damage is handled as ``ffmpeg``
    does (:func:`~mmemo.datasets.decoding.decode_video_frames`): a packet
    the decoder rejects is skipped and counted, a sampled frame it held is
    replaced by the nearest decoded frame, and a warning names the file.
    Fewer than ``min_decoded_fraction`` of the sampled frames really
    decoded (or none at all) is a :class:`BadSampleError` naming the file.
    The container is closed.

    **Seeking**: when the first sampled frame lies ``seek_after`` seconds or
    more into the video, the decoder seeks to the key frame before it
    instead of decoding from the start (windows far into long videos:
    Aff-Wild2, the demo's sliding windows). A frame's index stays the rank
    of its timestamp among ``video_frame_pts``; when a decoded frame has no
    known timestamp, the frames after the seek do not count up one by one
    from at most the first wanted index, or FFmpeg reports anything, the
    file is decoded from its start instead, so both ways give the same
    frames.

    **Missing video**: a sample whose ``missing_modalities`` holds
    ``'video'`` (see :class:`AVInit`) gets black ``blank_size`` frames.

    Required keys: ``video_reader``, ``frame_inds``, ``filename``.
    Optional: ``video_frame_pts`` (from :class:`AVInit`),
    ``missing_modalities``.

    Added or modified keys: ``imgs`` (list of ``H×W×3`` uint8 RGB arrays,
    one per entry of ``frame_inds``), ``original_shape``, ``img_shape``,
    ``video_reader`` (set to None), and in ``media_report``:
    ``video_corrupt_packets``, ``video_concealed_packets``,
    ``video_filled_frames``.

    Args:
        multi_thread (bool): Let FFmpeg decode with several threads.
            Defaults to False (DataLoader workers already run in parallel).
        min_decoded_fraction (float): Share of the sampled frames that
            must be decoded rather than filled. Defaults to 0.75.
        seek_after (float, optional): Seek when the first sampled frame
            starts this many seconds or more into the video; None always
            decodes from the start. Defaults to 10.0.
        blank_size (tuple[int, int]): ``(w, h)`` of the frames of a missing
            video. Defaults to ``(224, 224)``.
    """

    def __init__(
        self,
        multi_thread: bool = False,
        min_decoded_fraction: float = 0.75,
        seek_after: Optional[float] = 10.0,
        blank_size: Tuple[int, int] = (224, 224)
    ) -> None:
        assert 0 <= min_decoded_fraction <= 1, min_decoded_fraction
        self.multi_thread = multi_thread
        self.min_decoded_fraction = min_decoded_fraction
        self.seek_after = seek_after
        self.blank_size = tuple(blank_size)

    @staticmethod
    def _seek(container, pts: Sequence[int],
              wanted: Sequence[int]) -> Optional[Dict[int, np.ndarray]]:
        """The wanted frames decoded after a seek, or None when the
        frames after the seek cannot be told apart with certainty."""
        rank = {p: i for i, p in enumerate(pts)}
        first, last = min(wanted), max(wanted)
        stream = container.streams.video[0]
        container.seek(pts[first], stream=stream, backward=True)
        decoded, previous = {}, None
        for frame in container.decode(stream):
            index = rank.get(frame.pts)
            if index is None or (previous is None and index > first) or (
                    previous is not None and index != previous + 1):
                return None
            previous = index
            if index in wanted:
                decoded[index] = frame.to_ndarray(format='rgb24')
            if index >= last:
                break
        return decoded if len(decoded) == len(wanted) else None

    def _seek_decode(self, results: Dict,
                     frame_inds: np.ndarray) -> Optional[Dict]:
        pts = results.get('video_frame_pts')
        first = int(frame_inds.min())
        if self.seek_after is None or not pts or \
                int(frame_inds.max()) >= len(pts) or \
                first < self.seek_after * float(results['avg_fps']):
            return None
        try:
            with ffmpeg_errors() as logs:
                decoded = self._seek(results['video_reader'], pts,
                                     set(int(i) for i in frame_inds))
        except av.error.FFmpegError:
            decoded = None
        results['video_reader'].close()
        if decoded is None or logs:
            # decode from the start: the same frames, damage handled
            results['video_reader'] = open_container(results['filename'])
            return None
        # the frames after the seek decoded without a word from FFmpeg
        results.setdefault('media_report', {}).update(
            video_corrupt_packets=0,
            video_concealed_packets=0,
            video_filled_frames=0)
        return decoded

    def transform(self, results: Dict) -> Dict:
        """Decode the frames named in ``frame_inds``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
        if 'video' in results.get('missing_modalities', ()):
            w, h = self.blank_size
            decoded = {
                int(i): np.zeros((h, w, 3), np.uint8)
                for i in frame_inds
            }
        else:
            decoded = self._seek_decode(results, frame_inds)
        if decoded is None:
            decoded = self._decode(results, frame_inds)
        results['imgs'] = [decoded[int(i)] for i in frame_inds]
        results['original_shape'] = results['imgs'][0].shape[:2]
        results['img_shape'] = results['imgs'][0].shape[:2]
        results['video_reader'] = None
        return results

    def _decode(self, results: Dict, frame_inds: np.ndarray) -> Dict:
        """Decode from the start of the file, handling damage."""
        container = results['video_reader']
        path = results['filename']
        if self.multi_thread:
            container.streams.video[0].thread_type = 'AUTO'
        try:
            decoded, report = decode_video_frames(
                container, path, frame_inds, results.get('video_frame_pts'),
                self.min_decoded_fraction)
        finally:
            container.close()
        warn_once(path, 'video', report.problems())
        results.setdefault('media_report', {}).update(
            video_corrupt_packets=report.corrupt_packets,
            video_concealed_packets=report.concealed_packets,
            video_filled_frames=report.filled_frames)
        return decoded

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(multi_thread={self.multi_thread}, '
                f'min_decoded_fraction={self.min_decoded_fraction}, '
                f'seek_after={self.seek_after}, blank_size={self.blank_size})')
