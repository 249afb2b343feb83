# Copyright (c) mmemo contributors. All rights reserved.
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from ..affwild2_va_dataset import video_name_of
from ..errors import BadSampleError

#: the two layouts of a video's feature file: per frame, per segment
PER_FRAME, PER_SEGMENT = '.npy', '.npz'


def sequence_features_path(feature_dir: str,
                           video_id: str,
                           ext: str = PER_SEGMENT) -> str:
    """``<feature_dir>/<video_id><ext>``: where a video's features are read
    (:class:`LoadSequenceFeatures`) and written
    (``tools/misc/extract_text_features.py``)."""
    return osp.join(feature_dir, video_id + ext)


@TRANSFORMS.register_module()
class LoadSequenceFeatures(BaseTransform):
    """Read one stream's pre-extracted features for a window of a
    :class:`VASequenceDataset` (MAVEN's Swin / HuBERT / RoBERTa features).

    One file per video in ``feature_dir``, either

    - **per frame**, ``<video_id>.npy`` ``[num_frames, D]``: row ``i`` is
      frame ``i`` (0-based; annotation line ``i + 1``, face image
      ``{i + 1:05d}.jpg``). Memory-mapped: a window reads only its rows.
      The file may be up to ``max_missing_rows`` rows shorter than the
      annotation (Aff-Wild2 annotations can be a line longer than the
      video); frames past its end take its last row.
    - **per segment**, ``<video_id>.npz`` with ``features`` float
      ``[S, D]`` and ``intervals`` ``[S, 2]`` (start, end in seconds; the
      layout of CMU-SDK ``.csd`` data and of
      ``tools/misc/extract_text_features.py``).

    A file named after the video (``_left`` / ``_right`` / ``_main``
    removed, see :func:`video_name_of`) serves every annotation of that
    video when there is no ``<video_id>`` file: audio and text belong to
    the video, faces to the subject.

    The window's frames are its ``target_frames`` (``-1`` = padding past
    the video's end). Frame ``j`` is at time ``j / fps``, with the video's
    real frame rate (the sample's ``fps``, e.g. from ``frames_fps.csv``;
    ``fps`` here is the fallback). Modes:

    - ``'frame'``: one token per window frame (per-frame files; per-segment
      files are interpolated as in the MAVEN paper: a frame takes the
      segment that contains its time, ``start <= t < end``; the first such
      segment when they overlap). Padding frames and frames outside every
      segment get zeros and are masked.
    - ``'segment'`` (per-segment files only): the segments that overlap the
      window's span ``[first frame / fps, (last frame + 1) / fps)``, in
      time order, padded with zeros to ``max_tokens`` (when more overlap,
      those overlapping the most are kept). A window without any segment
      has only masked tokens.

    Required keys: ``video_id``, ``target_frames``; ``num_frames`` (checked
    against the rows of a per-frame file when given), ``fps`` (per-segment
    files; else the ``fps`` argument).

    Added keys: ``<stream>_feats`` (float32 ``[L, D]`` or ``[max_tokens,
    D]``), ``<stream>_padding_mask`` (bool, True = padding: pack it with
    ``PackAVInputs(padding_masks=dict(<stream>='<stream>_padding_mask'))``
    for ``BaseVAHead.with_padding_masks``).

    Args:
        feature_dir (str): The folder of the stream's files.
        stream (str): Name of the stream, e.g. ``'video'``, ``'audio'``,
            ``'text'``.
        mode (str): ``'frame'`` or ``'segment'``. Defaults to ``'frame'``.
        max_tokens (int, optional): Tokens per window in ``'segment'``
            mode (required there).
        feature_dim (int, optional): Expected feature size D, checked.
        fps (float, optional): Frame rate when a sample has none.
        max_missing_rows (int): How many rows a per-frame file may lack.
            Defaults to 1.
        standardize (bool): ``(x - mean) / std`` over the window's valid
            tokens, all features together (MAVEN's code standardises each
            sample's tensor). Defaults to False.
        mean (float or sequence, optional): With ``std``, fixed statistics
            (per feature allowed) applied to the valid tokens instead.
        std (float or sequence, optional): See ``mean``.
        cache_size (int): Open files kept per worker. Defaults to 32.
    """

    def __init__(self,
                 feature_dir: str,
                 stream: str,
                 mode: str = 'frame',
                 max_tokens: Optional[int] = None,
                 feature_dim: Optional[int] = None,
                 fps: Optional[float] = None,
                 max_missing_rows: int = 1,
                 standardize: bool = False,
                 mean: Optional[Union[float, Sequence[float]]] = None,
                 std: Optional[Union[float, Sequence[float]]] = None,
                 cache_size: int = 32) -> None:
        if mode not in ('frame', 'segment'):
            raise ValueError(
                f"mode must be 'frame' or 'segment', got {mode!r}")
        if mode == 'segment' and not (max_tokens and max_tokens > 0):
            raise ValueError("mode='segment' needs max_tokens > 0 (a fixed "
                             'number of tokens per window)')
        self.feature_dir = feature_dir
        self.stream = stream
        self.mode = mode
        self.max_tokens = max_tokens
        self.feature_dim = feature_dim
        self.fps = fps
        self.max_missing_rows = max_missing_rows
        if (mean is None) != (std is None) or (standardize
                                               and mean is not None):
            raise ValueError('give mean and std together, or standardize='
                             'True (per window), not both')
        self.standardize = standardize
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.std = None if std is None else np.asarray(std, np.float32)
        self.cache_size = cache_size
        self._files: 'OrderedDict[str, Tuple]' = OrderedDict()

    # ------------------------------------------------------------- files
    def find_file(self, video_id: str) -> str:
        """The feature file of an annotation, ``.npy`` or ``.npz``."""
        tried = []
        for name in dict.fromkeys((video_id, video_name_of(video_id))):
            found = [
                p for p in (sequence_features_path(self.feature_dir, name, ext)
                            for ext in (PER_FRAME, PER_SEGMENT))
                if osp.isfile(p)
            ]
            if len(found) == 2:
                raise BadSampleError(
                    found[0], f'both {osp.basename(found[0])} and '
                    f'{osp.basename(found[1])} exist: keep one layout')
            if found:
                return found[0]
            tried.append(osp.join(self.feature_dir, name + '.np[yz]'))
        raise BadSampleError(
            tried[0], f'no {self.stream} features for {video_id!r} (looked '
            f'for {" and ".join(tried)})')

    def _check_dim(self, path: str, features: np.ndarray, what: str) -> None:
        if features.ndim != 2:
            raise BadSampleError(
                path, f'{what} must be 2-D [rows, D], got shape '
                f'{features.shape}')
        if self.feature_dim and features.shape[1] != self.feature_dim:
            raise BadSampleError(
                path, f'{what} are {features.shape[1]}-d, expected '
                f'feature_dim={self.feature_dim}')

    def _read(self, path: str) -> Tuple:
        """``(features, None)`` (per frame, memory-mapped) or ``(features,
        intervals)`` (per segment)."""
        if path.endswith('.npy'):
            try:
                features = np.load(path, mmap_mode='r')
            except (ValueError, OSError) as e:
                raise BadSampleError(path, f'unreadable .npy: {e}')
            self._check_dim(path, features, 'per-frame features')
            return features, None
        try:
            with np.load(path) as data:
                missing = {'features', 'intervals'} - set(data.files)
                if missing:
                    raise BadSampleError(
                        path, f'no {sorted(missing)} array (has '
                        f'{data.files}); per-segment files hold features '
                        '[S, D] and intervals [S, 2] (seconds)')
                features = np.asarray(data['features'])
                intervals = np.asarray(data['intervals'], np.float64)
        except (ValueError, OSError) as e:
            raise BadSampleError(path, f'unreadable .npz: {e}')
        self._check_dim(path, features, 'per-segment features')
        if intervals.shape != (len(features), 2):
            raise BadSampleError(
                path, f'intervals must be [S, 2] = [{len(features)}, 2] '
                f'(one start, end per segment), got {intervals.shape}')
        if not np.isfinite(intervals).all() or \
                (intervals[:, 1] < intervals[:, 0]).any():
            raise BadSampleError(
                path, 'intervals must be finite (start, end) seconds with '
                'start <= end')
        return features, intervals

    def load(self,
             video_id: str) -> Tuple[str, np.ndarray, Optional[np.ndarray]]:
        """``(path, features, intervals)`` of a video (cached)."""
        path = self.find_file(video_id)
        if path in self._files:
            self._files.move_to_end(path)
        else:
            self._files[path] = self._read(path)
            while len(self._files) > self.cache_size:
                self._files.popitem(last=False)  # closes its memmap
        return (path, *self._files[path])

    # ---------------------------------------------------------- windows
    def _frame_rows(self, path: str, features: np.ndarray, frames: np.ndarray,
                    num_frames: Optional[int]) -> Tuple:
        rows = len(features)
        if rows == 0 or num_frames is not None and not (
                num_frames - self.max_missing_rows <= rows <= num_frames):
            raise BadSampleError(
                path, f'has {rows} rows, the annotation {num_frames} frames '
                f'(one row per frame, at most {self.max_missing_rows} '
                'missing at the end)')
        valid = frames >= 0  # [L]
        index = np.minimum(np.where(valid, frames, 0), rows - 1)  # [L]
        return index, valid

    def _fps(self, path: str, results: Dict) -> float:
        fps = results.get('fps') or self.fps
        if not fps or fps <= 0:
            raise BadSampleError(
                path, f'per-segment features need the frame rate of '
                f'{results["video_id"]!r}: the sample has no fps (give the '
                "dataset's frames_fps file, or LoadSequenceFeatures(fps=))")
        return float(fps)

    def transform(self, results: Dict) -> Dict:
        """Add the window's tokens and their padding mask.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        frames = np.asarray(results['target_frames'],
                            np.int64).reshape(-1)  # [L]
        path, features, intervals = self.load(results['video_id'])
        if intervals is None:
            if self.mode == 'segment':
                raise BadSampleError(
                    path, "per-frame features have no segments: use mode="
                    "'frame' (or give per-segment .npz files)")
            index, valid = self._frame_rows(path, features, frames,
                                            results.get('num_frames'))
        elif self.mode == 'frame':
            times = frames / self._fps(path, results)  # [L] seconds
            inside = (intervals[None, :, 0] <= times[:, None]) & (
                times[:, None] < intervals[None, :, 1])  # [L, S]
            index = inside.argmax(1) if inside.size else np.zeros(
                len(frames), np.int64)  # [L] first containing segment
            valid = (frames >= 0) & inside.any(1)  # [L]
        else:
            fps = self._fps(path, results)
            real = frames[frames >= 0]
            start, end = (real.min() / fps,
                          (real.max() + 1) / fps) if len(real) else (0, 0)
            overlap = np.minimum(intervals[:, 1], end) - np.maximum(
                intervals[:, 0], start)  # [S] seconds
            hits = np.flatnonzero(overlap > 0)
            if len(hits) > self.max_tokens:
                order = np.argsort(-overlap[hits], kind='stable')
                hits = np.sort(hits[order[:self.max_tokens]])
            index = np.zeros(self.max_tokens, np.int64)
            index[:len(hits)] = hits
            valid = np.arange(self.max_tokens) < len(hits)
        tokens = np.zeros((len(index), features.shape[1]), np.float32)
        if len(features):
            tokens[valid] = features[index[valid]]  # [N, D]
        if self.mean is not None:
            tokens[valid] = (tokens[valid] - self.mean) / self.std
        elif self.standardize and valid.any():
            real = tokens[valid]  # [N', D]
            tokens[valid] = (real - real.mean()) / (real.std() + 1e-6)
        results[f'{self.stream}_feats'] = tokens
        results[f'{self.stream}_padding_mask'] = ~valid  # [N] True = pad
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(feature_dir='
                f'{self.feature_dir!r}, stream={self.stream!r}, '
                f'mode={self.mode!r}, max_tokens={self.max_tokens})')
