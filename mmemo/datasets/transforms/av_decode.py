# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..decoding import decode_video_frames, warn_once


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

    Required keys: ``video_reader``, ``frame_inds``, ``filename``.
    Optional: ``video_frame_pts`` (from :class:`AVInit`).

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
    """

    def __init__(self,
                 multi_thread: bool = False,
                 min_decoded_fraction: float = 0.75) -> None:
        assert 0 <= min_decoded_fraction <= 1, min_decoded_fraction
        self.multi_thread = multi_thread
        self.min_decoded_fraction = min_decoded_fraction

    def transform(self, results: Dict) -> Dict:
        """Decode the frames named in ``frame_inds``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        container = results['video_reader']
        path = results['filename']
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
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
        results['imgs'] = [decoded[int(i)] for i in frame_inds]
        results['original_shape'] = results['imgs'][0].shape[:2]
        results['img_shape'] = results['imgs'][0].shape[:2]
        results['video_reader'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(multi_thread={self.multi_thread}, '
                f'min_decoded_fraction={self.min_decoded_fraction})')
