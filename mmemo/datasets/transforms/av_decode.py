# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import av
import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..errors import BadSampleError


@TRANSFORMS.register_module()
class AVDecode(BaseTransform):
    """Decode the sampled frames of the video opened by :class:`AVInit`.

    Replaces mmaction's ``PyAVDecode``, which converts every frame up to the
    last sampled one to RGB and silently repeats frames (``imgs[i %
    len(imgs)]``) when a file yields fewer frames than expected. Here only
    the sampled frames are converted, a shortfall or a decoder error is a
    :class:`BadSampleError` naming the file, and the container is closed.

    Required keys: ``video_reader``, ``frame_inds``, ``filename``.

    Added or modified keys: ``imgs`` (list of ``H×W×3`` uint8 RGB arrays,
    one per entry of ``frame_inds``), ``original_shape``, ``img_shape``,
    ``video_reader`` (set to None).

    Args:
        multi_thread (bool): Let FFmpeg decode with several threads.
            Defaults to False (DataLoader workers already run in parallel).
    """

    def __init__(self, multi_thread: bool = False) -> None:
        self.multi_thread = multi_thread

    def transform(self, results: Dict) -> Dict:
        """Decode the frames named in ``frame_inds``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        container = results['video_reader']
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
        wanted = set(int(i) for i in frame_inds)
        last = max(wanted)
        stream = container.streams.video[0]
        if self.multi_thread:
            stream.thread_type = 'AUTO'
        decoded, index = {}, -1
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted:
                    decoded[index] = frame.to_ndarray(format='rgb24')
                if index >= last:
                    break
        except av.error.FFmpegError as e:
            problem = 'has no decodable video frame' if index == -1 else \
                f'cannot decode frame {index + 1}'
            raise BadSampleError(results['filename'], f'{problem} ({e})')
        finally:
            container.close()
        missing = wanted.difference(decoded)
        if missing:
            raise BadSampleError(
                results['filename'],
                f'frames {sorted(missing)[:5]} of {results["total_frames"]} '
                'could not be decoded')
        results['imgs'] = [decoded[int(i)] for i in frame_inds]
        results['original_shape'] = results['imgs'][0].shape[:2]
        results['img_shape'] = results['imgs'][0].shape[:2]
        results['video_reader'] = None
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(multi_thread={self.multi_thread})'
