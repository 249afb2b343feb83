# Copyright (c) mmemo contributors. All rights reserved.
import logging
from typing import Dict, Optional, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from mmemo.registry import TASK_UTILS, TRANSFORMS
from ..face_detections import CachedFaceDetections


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of paired ``[N, 4]`` boxes ``(x1, y1, x2,
    y2)`` (a pair without area gives 0).

    Args:
        a (np.ndarray): ``[N, 4]`` boxes.
        b (np.ndarray): ``[N, 4]`` boxes.

    Returns:
        np.ndarray: ``[N]`` IoUs.
    """
    lt = np.maximum(a[:, :2], b[:, :2])  # [N, 2]
    rb = np.minimum(a[:, 2:4], b[:, 2:4])  # [N, 2]
    inter = np.clip(rb - lt, 0, None).prod(axis=1)  # [N]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])  # [N]
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # [N]
    union = area_a + area_b - inter  # [N]
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


@TRANSFORMS.register_module()
class FaceCrop(BaseTransform):
    """Crop the frames of a clip to the speaker's face.

    Place it right after the frame decoding step (mmaction's ``PyAVDecode``
    / ``DecordDecode`` or :class:`AVDecode`) and before any resize or
    augmentation. The detector runs on every distinct sampled frame (all at
    once, so it can batch them), or with ``key_frames`` on that many of them
    and then on the middle frames of gaps where two detected frames
    disagree (``refine_iou``) or lack a face; per frame one face is chosen
    (``select``). Frames without a detection (or not detected) take the box
    centre interpolated between the nearest frames with one (the nearest at
    the ends), then the box centres are smoothed over the clip's frames in
    frame order (``smooth``).

    The crop *size* is one per clip: the median face size over the frames
    with a detection, enlarged by ``margin`` (and made square when
    ``square``), so that all crops of a clip have the same size and the
    zoom does not jitter; only the position follows the face. The window
    is shifted (and if larger than the frame, shrunk) to stay inside the
    frame, so no padding is ever added. With ``output_size`` the crops are
    then resized to it; with None they keep their size, which differs
    between videos, so a later ``Resize`` is needed to batch them.

    When no frame of the clip has a face, a square centre crop of
    ``fallback_scale`` times the frame's short side is used. Such clips are
    counted (``face_fallback_frames`` in the sample; ``num_fallback_clips``
    and ``num_fallback_frames`` on the instance, per process: each
    DataLoader worker has its own copy) and logged as a warning naming the
    file: the first ``warn_first`` times, then every ``warn_every``-th time.

    Detection (and its cache) is
    :class:`~mmemo.datasets.face_detections.CachedFaceDetections`: with
    ``cache_dir``, the raw detections are stored per video in one small
    JSON file, keyed by frame index, named from a hash of the video's
    absolute path, size and modification time and of the detector's
    settings (its ``cache_tag``). Later epochs then detect only frames not
    seen before; a changed file gets a new cache file; DataLoader workers
    may share the directory.

    Required keys: ``imgs`` (list of ``H×W×3`` uint8 RGB frames),
    ``frame_inds`` (optional; the frames' indices in the video, needed for
    the cache and the temporal order), ``filename`` (optional; for the
    cache and the warnings), ``missing_modalities`` (optional; with
    ``'video'`` the blank frames are only resized to ``output_size``).

    Added or modified keys: ``imgs`` (list of cropped frames, all of one
    size), ``img_shape``, ``face_boxes`` (float32 ``[T, 4]`` crop windows
    ``x1, y1, x2, y2`` in the frame's pixels, ``x2``/``y2`` exclusive),
    ``face_tracks`` (float32 ``[T, 4]``: the face box followed in each
    frame, before ``margin``, squaring and clipping: the smoothed centre
    and the clip's median face size; absent for fallback clips),
    ``face_detected`` (bool ``[T]``: the detector found a face in that
    frame, or, with ``key_frames``, the frame was skipped: skipped frames
    always lie between two frames with a face), ``face_searched`` (bool
    ``[T]``: the frame's detections were used, freshly detected or from
    the cache; all True without ``key_frames``), ``faces_found`` /
    ``face_frames`` in ``media_report`` (frames with a face / frames),
    ``face_fallback_frames`` (int: frames cropped by the centre
    fallback, ``T`` or 0).

    Args:
        detector (dict | object): Config of a ``TASK_UTILS`` face detector
            or the detector itself; anything with ``detect(frames) ->
            list of [K, 5] (x1, y1, x2, y2, score) arrays`` works (see
            :class:`mmemo.models.face.MTCNNFaceDetector`). Defaults to
            MTCNN with ``min_face_size=40`` (faces of at least 40 pixels
            after downscaling to 480 pixels: talking-face videos have
            bigger ones, and it is twice as fast as 20).
        margin (float): Relative enlargement of the face box: each side
            becomes ``(1 + margin)`` times longer. Defaults to 0.2.
        square (bool): Make the crop square (side = the longer face box
            side). Defaults to True.
        output_size (int | tuple[int, int], optional): Resize the crops to
            this ``(w, h)`` (an int for a square). Defaults to None (keep
            the per-clip crop size).
        smooth (str, optional): Temporal smoothing of the box centres:
            ``'median'`` or ``'mean'`` over ``smooth_window`` neighbouring
            sampled frames, or None. Defaults to ``'median'``.
        smooth_window (int): Window of ``smooth``, in sampled frames (made
            odd). Defaults to 5.
        select (str): The face taken when a frame has several:
            ``'largest'`` (box area) or ``'highest_score'``. Defaults to
            ``'largest'``.
        fallback_scale (float): Side of the centre crop used when no frame
            has a face, relative to the frame's short side. Defaults to 0.6.
        cache_dir (str, optional): Directory of the detection cache. None
            disables it. Defaults to None.
        key_frames (int, optional): Detect first only on this many (>= 2)
            of the clip's distinct sampled frames, spread evenly (the first
            and the last included); then, round by round, on the middle
            frame of each gap between detected frames whose interpolation is
            not trusted (see ``refine_iou``); the other frames take the
            interpolated centre. None detects on every frame. The detections
            of a frame do not depend on it, so caches are shared. Defaults
            to None.
        refine_iou (float, optional): With ``key_frames``, a gap between two
            detected frames is refined when one of them has no face or the
            IoU of their chosen boxes is below this (the face moved, or the
            detector is unsure); None refines only for missing faces.
            Defaults to None.
        warn_first (int): Fallback clips always logged. Defaults to 5.
        warn_every (int): After those, log every ``warn_every``-th one.
            Defaults to 100.
    """

    def __init__(self,
                 detector: Union[dict, object] = dict(
                     type='MTCNNFaceDetector', min_face_size=40),
                 margin: float = 0.2,
                 square: bool = True,
                 output_size: Optional[Union[int, Tuple[int, int]]] = None,
                 smooth: Optional[str] = 'median',
                 smooth_window: int = 5,
                 select: str = 'largest',
                 fallback_scale: float = 0.6,
                 cache_dir: Optional[str] = None,
                 key_frames: Optional[int] = None,
                 refine_iou: Optional[float] = None,
                 warn_first: int = 5,
                 warn_every: int = 100) -> None:
        if smooth not in (None, 'median', 'mean'):
            raise ValueError(f'smooth must be None, "median" or "mean", got '
                             f'{smooth!r}')
        if select not in ('largest', 'highest_score'):
            raise ValueError('select must be "largest" or "highest_score", '
                             f'got {select!r}')
        if not 0 < fallback_scale <= 1:
            raise ValueError(
                f'fallback_scale must be in (0, 1], got {fallback_scale}')
        if margin <= -1:
            raise ValueError(f'margin must be > -1, got {margin}')
        if key_frames is not None and (isinstance(key_frames, bool)
                                       or not isinstance(key_frames, int)
                                       or key_frames < 2):
            raise ValueError('key_frames must be None or an int >= 2, got '
                             f'{key_frames!r}')
        if refine_iou is not None and not 0 <= refine_iou <= 1:
            raise ValueError(
                f'refine_iou must be None or in [0, 1], got {refine_iou}')
        if isinstance(detector, dict):
            # registers the default detector (as TASK_UTILS' own lookup of
            # `mmemo.models` would), without making every import of the
            # transforms load the models
            import mmemo.models.face  # noqa: F401

            # mmemo's scope, so that a plain `type` finds mmemo's detectors
            # even in a pipeline built under another default scope
            with DefaultScope.overwrite_default_scope('mmemo'):
                detector = TASK_UTILS.build(detector)
        if not callable(getattr(detector, 'detect', None)):
            raise TypeError('detector needs a detect(frames) method, got '
                            f'{type(detector).__name__}')
        self.detector = detector
        self.detections = CachedFaceDetections(detector, cache_dir)
        self.margin = margin
        self.square = square
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.output_size = None if output_size is None else tuple(output_size)
        self.smooth = smooth
        self.smooth_window = max(1, smooth_window) | 1  # odd: centred
        self.select = select
        self.fallback_scale = fallback_scale
        self.cache_dir = self.detections.cache_dir
        self.key_frames = key_frames
        self.refine_iou = refine_iou
        self.warn_first = warn_first
        self.warn_every = warn_every
        self.num_clips = 0
        self.num_fallback_clips = 0
        self.num_fallback_frames = 0

    # ------------------------------------------------------------ the boxes
    def _pick(self, boxes: np.ndarray) -> np.ndarray:
        """The ``[5]`` box of the face chosen among ``[K, 5]`` boxes."""
        if self.select == 'largest':
            area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            return boxes[np.argmax(area)]
        return boxes[np.argmax(boxes[:, 4])]

    def _smooth(self, values: np.ndarray) -> np.ndarray:
        """Smooth ``[T, C]`` values along T with edge padding."""
        k = self.smooth_window
        if self.smooth is None or k == 1:
            return values
        padded = np.pad(values, ((k // 2, k // 2), (0, 0)), mode='edge')
        windows = np.lib.stride_tricks.sliding_window_view(
            padded, k, axis=0)  # [T, C, k]
        if self.smooth == 'median':
            return np.median(windows, axis=-1)
        return windows.mean(axis=-1)

    def _tracks(self, frame_inds: np.ndarray, picked: Dict) -> np.ndarray:
        """The face box followed in each frame, before the margin.

        Args:
            frame_inds (np.ndarray): ``[T]`` frame indices.
            picked (dict): ``{frame index: [5] box}`` of frames with a
                face; not empty.

        Returns:
            np.ndarray: float ``[T, 4]`` boxes: the smoothed centre of each
            frame and the clip's median face size.
        """
        # one entry per distinct frame, in frame order
        uniq, inverse = np.unique(frame_inds, return_inverse=True)
        has = np.array([i in picked for i in uniq.tolist()])
        found = np.stack([picked[i] for i in uniq[has].tolist()])
        centres = (found[:, :2] + found[:, 2:4]) / 2  # [D, 2]
        sizes = found[:, 2:4] - found[:, :2]  # [D, 2]
        # frames without a face: linear between neighbours, nearest at ends
        centres = np.stack(
            [np.interp(uniq, uniq[has], centres[:, c]) for c in range(2)],
            axis=1)  # [U, 2]
        centres = self._smooth(centres)[inverse]  # [T, 2]
        size = np.median(sizes, axis=0)  # [2]
        return np.concatenate([centres - size / 2, centres + size / 2],
                              axis=1)  # [T, 4]

    def _windows(self, tracks: np.ndarray, frame_hw: Tuple[int,
                                                           int]) -> np.ndarray:
        """Crop windows ``[T, 4]`` (int) around the face tracks.

        Args:
            tracks (np.ndarray): ``[T, 4]`` face boxes of :meth:`_tracks`.
            frame_hw (tuple[int]): Frame height and width.
        """
        h, w = frame_hw
        centres = (tracks[:, :2] + tracks[:, 2:]) / 2  # [T, 2]
        size = (tracks[0, 2:] - tracks[0, :2]) * (1 + self.margin)  # [2]
        if self.square:
            size = np.full(2, size.max())
        crop_w = int(np.clip(round(size[0]), 1, w))
        crop_h = int(np.clip(round(size[1]), 1, h))
        if self.square:
            crop_w = crop_h = min(crop_w, crop_h)
        x1 = np.clip(np.round(centres[:, 0] - crop_w / 2), 0, w - crop_w)
        y1 = np.clip(np.round(centres[:, 1] - crop_h / 2), 0, h - crop_h)
        windows = np.stack([x1, y1, x1 + crop_w, y1 + crop_h], axis=1)
        return windows.astype(np.int64)  # [T, 4]

    def _fallback_windows(self, num: int, frame_hw: Tuple[int,
                                                          int]) -> np.ndarray:
        """``[T, 4]`` square centre crops for a clip without a face."""
        h, w = frame_hw
        side = max(1, int(round(self.fallback_scale * min(h, w))))
        x1, y1 = (w - side) // 2, (h - side) // 2
        return np.tile([x1, y1, x1 + side, y1 + side], (num, 1))

    def _warn_fallback(self, filename: str, num_frames: int) -> None:
        n = self.num_fallback_clips
        if n <= self.warn_first or n % self.warn_every == 0:
            print_log(
                f'FaceCrop: no face in any of the {num_frames} frames of '
                f'{filename}; centre crop used ({n} such clip(s) of '
                f'{self.num_clips} in this process).',
                logger='current',
                level=logging.WARNING)

    def _detect(self, imgs: list, frame_inds: np.ndarray,
                filename: Optional[str]) -> Dict:
        """Raw detections of the key frames and of the frames refined
        between them (every distinct frame without ``key_frames``).

        Returns:
            dict: ``{frame index: float32 [K, 5]}`` of the detected frames
            only (not of the other frames of the video a cache may hold, so
            that a cache never changes the crops).
        """
        uniq, first = np.unique(frame_inds, return_index=True)
        if self.key_frames is None or self.key_frames >= len(uniq):
            detections = self.detections(imgs, frame_inds, filename)
            return {i: detections[i] for i in uniq.tolist()}
        todo = np.unique(
            np.linspace(0,
                        len(uniq) - 1,
                        self.key_frames).round().astype(np.int64)).tolist()
        detections, done = {}, []
        while todo:
            pos = first[todo]
            detections.update(
                self.detections([imgs[p] for p in pos.tolist()],
                                frame_inds[pos], filename))
            done = sorted(done + todo)
            todo = self._to_refine(done, uniq, detections)
        return {int(uniq[p]): detections[int(uniq[p])] for p in done}

    def _to_refine(self, done: list, uniq: np.ndarray,
                   detections: Dict) -> list:
        """Middle frames of the gaps between detected frames where the
        interpolation is not trusted: a side without a face, or sides whose
        chosen boxes overlap by less than ``refine_iou``.

        Args:
            done (list[int]): Sorted positions (in ``uniq``) detected so far.
            uniq (np.ndarray): The clip's distinct frame indices, sorted.
            detections (dict): ``{frame index: [K, 5]}``.

        Returns:
            list[int]: Positions to detect next.
        """
        todo = []
        for a, b in zip(done[:-1], done[1:]):
            if b - a < 2:
                continue
            box_a = detections[int(uniq[a])]
            box_b = detections[int(uniq[b])]
            if not len(box_a) or not len(box_b) or (
                    self.refine_iou is not None and pair_iou(
                        self._pick(box_a)[None, :4],
                        self._pick(box_b)[None, :4])[0] < self.refine_iou):
                todo.append((a + b) // 2)
        return todo

    # ------------------------------------------------------------ transform
    def transform(self, results: Dict) -> Dict:
        """Detect, smooth and crop the faces of the clip.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if 'video' in results.get('missing_modalities', ()):
            return self._blank(results)
        imgs = list(results['imgs'])
        num = len(imgs)
        frame_hw = imgs[0].shape[:2]
        if any(img.shape[:2] != frame_hw for img in imgs):
            raise ValueError('FaceCrop needs frames of one size, got '
                             f'{sorted({img.shape[:2] for img in imgs})}')
        filename = results.get('filename')
        if 'frame_inds' in results:
            frame_inds = np.asarray(results['frame_inds']).reshape(-1)
            if len(frame_inds) != num:
                raise ValueError(f'{len(frame_inds)} frame_inds for {num} '
                                 'imgs')
        else:
            # no indices: frames in clip order, nothing to key a cache by
            frame_inds, filename = np.arange(num), None

        detections = self._detect(imgs, frame_inds, filename)
        picked = {
            idx: self._pick(boxes)
            for idx, boxes in detections.items() if len(boxes)
        }
        searched = np.array([i in detections for i in frame_inds.tolist()])
        # a frame skipped between key frames lies between two frames with a
        # face (gaps next to a frame without one are bisected to the end)
        detected = np.array([i in picked for i in frame_inds.tolist()
                             ]) | ~searched
        self.num_clips += 1
        tracks = None
        if detected.any():
            tracks = self._tracks(frame_inds, picked)
            windows = self._windows(tracks, frame_hw)
            fallback_frames = 0
        else:
            windows = self._fallback_windows(num, frame_hw)
            fallback_frames = num
            self.num_fallback_clips += 1
            self.num_fallback_frames += num
            self._warn_fallback(results.get('filename', '<unknown file>'), num)

        crops = []
        for img, (x1, y1, x2, y2) in zip(imgs, windows.tolist()):
            crop = img[y1:y2, x1:x2]  # a view: OpenCV reads its rows
            if self.output_size is not None:
                out_w, out_h = self.output_size
                shrink = out_w < crop.shape[1] or out_h < crop.shape[0]
                crop = cv2.resize(
                    crop, (out_w, out_h),
                    interpolation=cv2.INTER_AREA
                    if shrink else cv2.INTER_LINEAR)
            crops.append(np.ascontiguousarray(crop))
        results['imgs'] = crops
        results['img_shape'] = crops[0].shape[:2]
        results['face_boxes'] = windows.astype(np.float32)
        if tracks is not None:
            results['face_tracks'] = tracks.astype(np.float32)
        else:
            results.pop('face_tracks', None)
        results['face_detected'] = detected
        results['face_searched'] = searched
        results['face_fallback_frames'] = fallback_frames
        results.setdefault('media_report', {}).update(
            faces_found=int(detected.sum()), face_frames=num)
        return results

    def _blank(self, results: Dict) -> Dict:
        """Blank frames of a missing video: nothing to detect."""
        if self.output_size is not None:
            w, h = self.output_size
            results['imgs'] = [np.zeros(
                (h, w, 3), np.uint8)] * len(results['imgs'])
            results['img_shape'] = (h, w)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(detector={self.detector!r}, '
                f'margin={self.margin}, square={self.square}, '
                f'output_size={self.output_size}, smooth={self.smooth!r}, '
                f'smooth_window={self.smooth_window}, '
                f'select={self.select!r}, '
                f'fallback_scale={self.fallback_scale}, '
                f'cache_dir={self.cache_dir!r}, '
                f'key_frames={self.key_frames}, '
                f'refine_iou={self.refine_iou})')
