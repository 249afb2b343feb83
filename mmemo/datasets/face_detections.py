# Copyright (c) mmemo contributors. All rights reserved.
"""A face detector's raw detections per video frame, cached on disk.

:class:`~mmemo.datasets.transforms.FaceCrop` crops; this module detects
(or reads what an earlier epoch, worker or run detected). One JSON file a
video and detector, keyed by the file's path, size and modification time
and the frame size, written atomically (temporary file, then
``os.replace``), so DataLoader workers may share the directory; at worst
concurrent writers lose each other's new entries, which are then detected
again.
"""
import hashlib
import json
import logging
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from mmemo.utils import strict_json

CACHE_VERSION = 1


class CachedFaceDetections:
    """Detections of a video's frames: from the cache, else the detector.

    Args:
        detector (object): A face detector with ``detect(frames)`` (``[N,
            H, W, 3]`` RGB uint8 -> per frame float ``[K, 5]`` boxes and
            scores) and optionally a ``cache_tag``.
        cache_dir (str, optional): The cache folder; None detects every
            time.
    """

    def __init__(self, detector, cache_dir: Optional[str] = None) -> None:
        self.detector = detector
        self.cache_dir = None if cache_dir is None else osp.expanduser(
            cache_dir)
        self._cache_warned = False

    def __call__(self, imgs: List[np.ndarray], frame_inds: np.ndarray,
                 filename: Optional[str]) -> Dict:
        """Raw detections of each distinct frame.

        Args:
            imgs (list[np.ndarray]): The sampled frames.
            frame_inds (np.ndarray): Their indices in the video.
            filename (str, optional): The video (None: not cached).

        Returns:
            dict: ``{frame index: float32 [K, 5]}``.
        """
        return self._detections(imgs, frame_inds, filename)

    @property
    def _detector_tag(self) -> str:
        return str(
            getattr(self.detector, 'cache_tag', None)
            or type(self.detector).__name__)

    def _cache_entry(self, filename: Optional[str],
                     frame_hw: Tuple[int, int]) -> Optional[Tuple[str, Dict]]:
        """The cache file of a video and the metadata it must hold.

        Returns:
            tuple | None: ``(path, meta)``, or None when not cached.
        """
        if self.cache_dir is None or not filename or not osp.isfile(filename):
            return None
        path = osp.abspath(filename)
        stat = os.stat(path)
        meta = dict(
            version=CACHE_VERSION,
            file=path,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            detector=self._detector_tag,
            frame_shape=[int(x) for x in frame_hw])
        key = json.dumps(meta, sort_keys=True)
        name = hashlib.sha1(key.encode()).hexdigest()[:24]
        return osp.join(self.cache_dir, f'{name}.json'), meta

    @staticmethod
    def _load_cache(path: str, meta: Dict) -> Dict:
        """Detections cached for the video, ``{frame index: [K, 5]}``."""
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}  # absent or corrupt: detect again
        if any(data.get(k) != v for k, v in meta.items()):
            return {}
        return {
            int(k): np.asarray(v, dtype=np.float32).reshape(-1, 5)
            for k, v in data.get('frames', {}).items()
        }

    def _save_cache(self, path: str, meta: Dict, detections: Dict) -> None:
        # merge with what other workers may have written meanwhile
        merged = self._load_cache(path, meta)
        merged.update(detections)
        data = dict(meta)
        # float32 -> Python float -> JSON is exact, so cached boxes equal
        # freshly detected ones
        data['frames'] = {
            str(k): v.tolist()
            for k, v in sorted(merged.items())
        }
        try:
            os.makedirs(self.cache_dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                dir=self.cache_dir, prefix='.tmp-', suffix='.json')
            try:
                with os.fdopen(fd, 'w') as f:
                    strict_json.dump(data, f, separators=(',', ':'))
                os.replace(tmp, path)
            except BaseException:
                if osp.exists(tmp):
                    os.remove(tmp)
                raise
        except OSError as e:
            if not self._cache_warned:
                self._cache_warned = True
                print_log(
                    f'FaceCrop: cannot write the detection cache {path} '
                    f'({e}); detections will not be cached.',
                    logger='current',
                    level=logging.WARNING)

    def _detections(self, imgs: List[np.ndarray], frame_inds: np.ndarray,
                    filename: Optional[str]) -> Dict:
        """Raw detections of each distinct frame, from cache or detector.

        Returns:
            dict: ``{frame index: float32 [K, 5]}``.
        """
        entry = self._cache_entry(filename, imgs[0].shape[:2])
        cached = {} if entry is None else self._load_cache(*entry)
        first_pos = {}
        for pos, idx in enumerate(frame_inds.tolist()):
            first_pos.setdefault(idx, pos)
        todo = [idx for idx in first_pos if idx not in cached]
        if not todo:
            return cached
        found = self.detector.detect(
            np.stack([imgs[first_pos[idx]] for idx in todo]))
        new = {
            idx: np.asarray(boxes, dtype=np.float32).reshape(-1, 5)
            for idx, boxes in zip(todo, found)
        }
        if entry is not None:
            self._save_cache(*entry, new)
        cached.update(new)
        return cached
