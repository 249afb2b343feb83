# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmemo.registry import TRANSFORMS
from ..errors import BadSampleError


@TRANSFORMS.register_module()
class LoadFaceFrames(BaseTransform):
    """Read sampled frames from a folder of face images.

    For the organisers' cropped and aligned Aff-Wild2 faces
    (``cropped_aligned/<video_id>/00001.jpg``, 112x112, one image per video
    frame, 1-based). Frames where the organisers found no face have no
    image: such a frame is replaced by the existing image nearest in time
    (the earlier one on a tie), and counted in ``face_fallback_frames``,
    on the instance (``num_fallback_frames``, per process) and in a warning
    naming the folder (the first ``warn_first`` times).

    The folder's listing is cached per folder (a few folders, refreshed when
    the folder's modification time changes): Aff-Wild2 folders hold up to
    tens of thousands of images and every window of a video reads the same
    folder.

    Required keys: ``frame_dir``, ``frame_inds`` (0-based frame indices).

    Added keys: ``imgs`` (list of ``H×W×3`` uint8 RGB arrays, one per entry
    of ``frame_inds``), ``original_shape``, ``img_shape``,
    ``face_fallback_frames`` (entries of ``frame_inds`` read from another
    frame's image).

    Args:
        filename_tmpl (str): Image name of a frame number.
            Defaults to ``'{:05d}.jpg'``.
        start_index (int): Frame number of the first frame (index 0).
            Defaults to 1.
        warn_first (int): Warnings logged per process. Defaults to 5.
        cache_size (int): Folders whose listing is kept. Defaults to 8.
    """

    def __init__(self,
                 filename_tmpl: str = '{:05d}.jpg',
                 start_index: int = 1,
                 warn_first: int = 5,
                 cache_size: int = 8) -> None:
        self.filename_tmpl = filename_tmpl
        self.start_index = start_index
        self.warn_first = warn_first
        self.cache_size = cache_size
        self.num_fallback_frames = 0
        self._warned = 0
        self._listings: OrderedDict = OrderedDict()

    def _existing(self, frame_dir: str) -> Tuple[np.ndarray, Dict[int, str]]:
        """Sorted 0-based indices of the frames with an image, and names."""
        try:
            mtime = os.stat(frame_dir).st_mtime_ns
        except OSError:
            raise BadSampleError(frame_dir, 'face image folder not found')
        cached = self._listings.get(frame_dir)
        if cached is not None and cached[0] == mtime:
            self._listings.move_to_end(frame_dir)
            return cached[1], cached[2]
        prefix = self.filename_tmpl.split('{', 1)[0]
        suffix = self.filename_tmpl.rsplit('}', 1)[-1]
        names = {}
        for name in os.listdir(frame_dir):
            number = name[len(prefix):len(name) - len(suffix)]
            # only names the template produces (skips thumbnails, notes)
            if name.startswith(prefix) and name.endswith(suffix) and \
                    number.isdigit() and \
                    self.filename_tmpl.format(int(number)) == name:
                names[int(number) - self.start_index] = name
        if not names:
            raise BadSampleError(
                frame_dir, 'face image folder holds no image named like '
                f'{self.filename_tmpl.format(self.start_index)!r}')
        indices = np.array(sorted(names), dtype=np.int64)
        self._listings[frame_dir] = (mtime, indices, names)
        if len(self._listings) > self.cache_size:
            self._listings.popitem(last=False)
        return indices, names

    def transform(self, results: Dict) -> Dict:
        """Read the images of ``frame_inds``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        frame_dir = results['frame_dir']
        indices, names = self._existing(frame_dir)
        wanted = np.asarray(results['frame_inds'], np.int64).reshape(-1)
        # nearest existing frame: the neighbours around the insertion point
        pos = np.searchsorted(indices, wanted)
        after = indices[np.minimum(pos, len(indices) - 1)]
        before = indices[np.maximum(pos - 1, 0)]
        use = np.where(
            np.abs(wanted - before) <= np.abs(after - wanted), before, after)
        fallback = int((use != wanted).sum())
        imgs = {}
        for index in np.unique(use):
            path = osp.join(frame_dir, names[int(index)])
            try:
                imgs[index] = mmcv.imread(path, channel_order='rgb')
            except Exception as e:  # cv2 raises several types
                raise BadSampleError(path, f'cannot be read ({e})') from e
            if imgs[index] is None:
                raise BadSampleError(path, 'cannot be read as an image')
        results['imgs'] = [imgs[i] for i in use]
        results['original_shape'] = results['imgs'][0].shape[:2]
        results['img_shape'] = results['imgs'][0].shape[:2]
        results['face_fallback_frames'] = fallback
        if fallback:
            self.num_fallback_frames += fallback
            if self._warned < self.warn_first:
                self._warned += 1
                print_log(
                    f'{frame_dir}: {fallback} sampled frame(s) have no face '
                    'image; using the nearest frame with one',
                    logger='current',
                    level=logging.WARNING)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'filename_tmpl={self.filename_tmpl!r}, '
                f'start_index={self.start_index})')
