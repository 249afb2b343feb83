# Copyright (c) mmemo contributors. All rights reserved.
"""Readers of the CMU-MOSEI releases, for :class:`BaseMoseiDataset` and its
subclasses (one per release).

- the official standard folds (video IDs, shipped as JSON);
- MMSA / MulT feature pickles, unpickled with a restricted unpickler (NumPy
  arrays and plain containers only);
- CMU-MultimodalSDK computational sequences (``.csd``, HDF5), read
  directly with h5py (``mmsdk`` is not on PyPI);
- label CSVs.

Every problem with a file is raised as :class:`BadSampleError` naming the
file and, where there is one, the key inside it.
"""
import csv
import json
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import BadSampleError

#: The label vector of a segment, SDK order (``All Labels``).
MOSEI_LABELS = ('sentiment', 'happy', 'sad', 'anger', 'surprise', 'disgust',
                'fear')
MOSEI_EMOTIONS = MOSEI_LABELS[1:]
MOSEI_SPLITS = ('train', 'valid', 'test')
#: The official standard folds (CMU-MultimodalSDK, MIT; see the README
#: next to the file).
STANDARD_FOLDS = osp.join(
    osp.dirname(osp.abspath(__file__)), 'resources', 'cmu_mosei',
    'standard_folds.json')
#: ``<video_id>[<segment>]``: a key of a sequence aligned to the labels.
ALIGNED_KEY = re.compile(r'^(.+)\[(\d+)\]$')
#: MMSA's id separator, ``<video_id>$_$<clip_id>``.
MMSA_SEPARATOR = '$_$'


# ------------------------------------------------------------------ folds
def load_folds(path: Optional[str] = None) -> Dict[str, str]:
    """Video ID -> split of the standard folds.

    Args:
        path (str, optional): A JSON file with the lists
            ``standard_{train,valid,test}_fold`` (the SDK's names) or
            ``train`` / ``valid`` / ``test``. Defaults to the shipped copy of
            the official folds.

    Returns:
        dict: Video ID -> ``'train'``, ``'valid'`` or ``'test'``.
    """
    path = path or STANDARD_FOLDS
    with open(path) as f:
        lists = json.load(f)
    folds: Dict[str, str] = {}
    for split in MOSEI_SPLITS:
        videos = lists.get(f'standard_{split}_fold', lists.get(split))
        if videos is None:
            raise ValueError(f'{path}: no "standard_{split}_fold" (or '
                             f'"{split}") list; keys: {sorted(lists)}')
        for video in videos:
            if folds.setdefault(str(video), split) != split:
                raise ValueError(f'{path}: video {video!r} is in both the '
                                 f'{folds[str(video)]} and the {split} fold')
    return folds


def split_segment_name(name: str) -> Tuple[str, str]:
    """The video ID and the segment of a segment name.

    ``'vid$_$3'`` (MMSA) and ``'vid[3]'`` (an aligned ``.csd`` key) give
    ``('vid', '3')``; any other name is a video ID with segment ``''``.
    """
    if MMSA_SEPARATOR in name:
        video, segment = name.rsplit(MMSA_SEPARATOR, 1)
        return video, segment
    match = ALIGNED_KEY.match(name)
    if match:
        return match.group(1), match.group(2)
    return name, ''


# ----------------------------------------------------------------- pickles
class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays, scalars, dtypes and plain containers only:
    a pickle that needs any other global is refused before it runs."""

    ALLOWED = {
        ('numpy', 'ndarray'),
        ('numpy', 'dtype'),
        ('numpy.core.multiarray', '_reconstruct'),
        ('numpy._core.multiarray', '_reconstruct'),
        ('numpy.core.multiarray', 'scalar'),
        ('numpy._core.multiarray', 'scalar'),
        ('numpy.core.numeric', '_frombuffer'),
        ('numpy._core.numeric', '_frombuffer'),
        ('_codecs', 'encode'),  # bytes in protocol-2 pickles
        ('collections', 'OrderedDict'),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED or (module == 'numpy.dtypes'
                                              and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'it needs {module}.{name}, but only NumPy arrays and plain '
            'containers are unpickled (allow_unsafe_pickle=True trusts the '
            'file)')


def read_pickle(path: str, allow_unsafe: bool = False) -> dict:
    """Read a feature pickle (MMSA's ``aligned_50.pkl``, MulT's
    ``mosei_senti_data.pkl``).

    Args:
        path (str): The pickle.
        allow_unsafe (bool): Unpickle anything (only for files you trust).
            Defaults to False: NumPy arrays and plain containers only.

    Returns:
        dict: The unpickled object, checked to be a dict.
    """
    if not osp.isfile(path):
        raise BadSampleError(path, 'file not found')
    try:
        with open(path, 'rb') as f:
            data = pickle.load(f) if allow_unsafe else _ArrayUnpickler(
                f).load()
    except pickle.UnpicklingError as e:
        raise BadSampleError(path, f'cannot be unpickled: {e}') from e
    except (EOFError, ValueError, TypeError, AttributeError, ImportError) as e:
        raise BadSampleError(
            path, f'is not a readable feature pickle '
            f'({type(e).__name__}: {e})') from e
    if not isinstance(data, dict):
        raise BadSampleError(
            path, f'holds a {type(data).__name__}, not a dict of splits')
    return data


def as_strings(values) -> List[Union[str, List[str]]]:
    """Ids as str (bytes decoded): one per row, or a list per row of a
    2-D array."""
    out = []
    for value in np.asarray(values, dtype=object).reshape(len(values), -1):
        parts = [
            v.decode('utf-8') if isinstance(v, bytes) else str(v)
            for v in value
        ]
        out.append(parts if len(parts) > 1 else parts[0])
    return out


# ------------------------------------------------------------ .csd (HDF5)
class CsdFile:
    """One computational sequence of the CMU-MultimodalSDK (``.csd``).

    An HDF5 file with one root group (the sequence's name, e.g. ``All
    Labels`` or ``COVAREP``) holding ``data/<key>/features`` ``[n, D]`` and
    ``data/<key>/intervals`` ``[n, 2]`` (start, end seconds) and
    ``metadata/<name>`` (JSON strings). Keys are video IDs, or
    ``<video_id>[<segment>]`` after the SDK aligned the sequence to the
    labels.

    Args:
        path (str): The ``.csd`` file.
    """

    def __init__(self, path: str) -> None:
        import h5py
        self.path = path
        if not osp.isfile(path):
            raise BadSampleError(path, 'file not found')
        try:
            self.file = h5py.File(path, 'r')
        except OSError as e:
            raise BadSampleError(
                path, f'is not an HDF5 computational sequence ({e})') from e
        roots = [
            name for name in self.file
            if isinstance(self.file[name], h5py.Group)
            and isinstance(self.file[name].get('data'), h5py.Group)
        ]
        if not roots:
            self.close()
            raise BadSampleError(
                path, 'has no "<root>/data" group: not a computational '
                'sequence')
        self.root = roots[0]  # the SDK reads the first root, too
        self.data = self.file[self.root]['data']

    def keys(self) -> List[str]:
        """The keys of ``data`` (video IDs or aligned segment keys)."""
        return list(self.data.keys())

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _dataset(self, key: str, name: str):
        group = self.data.get(key)
        if group is None or name not in group:
            raise BadSampleError(
                self.path, f'no "{self.root}/data/{key}/{name}": the '
                f'sequence lacks {key!r}')
        return group[name]

    def num_rows(self, key: str) -> int:
        """Feature rows of ``key``, checked against its intervals."""
        features = self._dataset(key, 'features')
        intervals = self._dataset(key, 'intervals')
        if features.ndim != 2 or intervals.shape != (features.shape[0], 2):
            raise BadSampleError(
                self.path, f'"{self.root}/data/{key}": features '
                f'{features.shape} and intervals {intervals.shape} do not '
                'pair up ([n, D] and [n, 2])')
        return features.shape[0]

    def intervals(self, key: str) -> np.ndarray:
        """``[n, 2]`` float64 start and end seconds of the rows of ``key``."""
        self.num_rows(key)
        return np.asarray(self._dataset(key, 'intervals')[()], np.float64)

    def features(self, key: str, rows=None) -> np.ndarray:
        """Feature rows of ``key`` as float32 ``[n, D]``.

        Args:
            key (str): The key.
            rows (tuple | list, optional): ``(start, stop)`` or increasing
                row indices; None reads all.
        """
        dataset = self._dataset(key, 'features')
        try:
            if rows is None:
                values = dataset[()]
            elif isinstance(rows, tuple):
                values = dataset[rows[0]:rows[1]]
            else:
                values = dataset[list(rows)]
        except (OSError, ValueError, TypeError) as e:
            raise BadSampleError(
                self.path,
                f'"{self.root}/data/{key}/features" cannot be read ({e})'
            ) from e
        return np.asarray(values, np.float32).reshape(len(values), -1)

    def metadata(self) -> dict:
        """The ``metadata`` entries (JSON-decoded where they are JSON)."""
        group = self.file[self.root].get('metadata') or {}
        meta = {}
        for name in group:
            value = group[name][()]
            value = value[0] if np.ndim(value) else value
            value = value.decode() if isinstance(value, bytes) else value
            try:
                meta[name] = json.loads(value)
            except (TypeError, ValueError):
                meta[name] = value
        return meta

    def close(self) -> None:
        self.file.close()


def overlapping_rows(intervals: np.ndarray, start: float,
                     end: float) -> np.ndarray:
    """Rows whose interval overlaps ``[start, end]`` (the SDK's alignment
    keeps the feature rows that intersect the reference interval).

    Args:
        intervals (np.ndarray): ``[n, 2]`` start and end seconds.
        start (float): Segment start, s.
        end (float): Segment end, s.

    Returns:
        np.ndarray: Increasing row indices.
    """
    return np.flatnonzero((intervals[:, 0] < end) & (intervals[:, 1] > start))


# ------------------------------------------------------------------ labels
def check_label(label: np.ndarray, path: str, key: str,
                emotions_required: bool) -> np.ndarray:
    """Check a ``[7]`` label vector: sentiment in [-3, 3], emotion
    intensities in [0, 3] (NaN = not given, allowed unless required).

    Returns:
        np.ndarray: float32 ``[7]``.
    """
    label = np.asarray(label, np.float64).reshape(-1)
    if label.shape != (len(MOSEI_LABELS), ):
        raise BadSampleError(
            path, f'{key}: {label.size} label values, expected '
            f'{len(MOSEI_LABELS)} {MOSEI_LABELS}')
    sentiment, emotions = label[0], label[1:]
    if not -3 <= sentiment <= 3:  # also False for NaN
        raise BadSampleError(
            path, f'{key}: sentiment {sentiment} is outside [-3, 3]')
    given = ~np.isnan(emotions)
    if emotions_required and not given.all():
        raise BadSampleError(path, f'{key}: emotion intensity is NaN')
    if given.any() and not ((emotions[given] >= 0) &
                            (emotions[given] <= 3)).all():
        raise BadSampleError(
            path, f'{key}: emotion intensities {emotions.tolist()} are '
            'outside [0, 3]')
    return label.astype(np.float32)


def read_label_csv(path: str) -> List[dict]:
    """Segments of a label CSV.

    Columns: ``video_id``, ``segment`` and ``sentiment`` (required); the six
    emotions ``happy ... fear`` (optional, all or none); ``start``, ``end``
    (seconds, optional) and ``video``, ``audio`` (files, optional).

    Returns:
        list: Per row a dict: ``video_id``, ``segment``, ``label`` float
        ``[7]`` with NaN emotions when the columns are absent, ``interval``
        or None, ``video``, ``audio``; or, for a bad row, ``video_id``,
        ``segment`` and ``error`` (a :class:`BadSampleError`).
    """
    if not osp.isfile(path):
        raise BadSampleError(path, 'file not found')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = {'video_id', 'segment', 'sentiment'} - set(header)
        if missing:
            raise BadSampleError(
                path, f'the header lacks {sorted(missing)} (has {header})')
        emotions = [e for e in MOSEI_EMOTIONS if e in header]
        if emotions and len(emotions) != len(MOSEI_EMOTIONS):
            raise BadSampleError(
                path, f'the header has emotions {emotions}: give all of '
                f'{MOSEI_EMOTIONS} or none')
        rows = []
        for line, row in enumerate(reader, start=2):
            key = f'line {line}'
            names = dict(
                video_id=(row['video_id'] or '').strip(),
                segment=(row['segment'] or '').strip())
            try:
                values = [row['sentiment']] + [row[e] for e in emotions]
                label = np.full(len(MOSEI_LABELS), np.nan)
                label[:len(values)] = [float(v) for v in values]
                interval = None
                if row.get('start') and row.get('end'):
                    interval = (float(row['start']), float(row['end']))
                rows.append(
                    dict(
                        **names,
                        label=check_label(label, path, key, bool(emotions)),
                        interval=interval,
                        video=row.get('video') or None,
                        audio=row.get('audio') or None))
            except ValueError as e:
                rows.append(
                    dict(**names, error=BadSampleError(path, f'{key}: {e}')))
            except BadSampleError as e:
                rows.append(dict(**names, error=e))
    return rows


def read_label_csd(path: str) -> List[dict]:
    """Segments of ``CMU_MOSEI_Labels.csd``.

    Unaligned (keys = video IDs): row ``i`` of ``data/<video>`` is segment
    ``i``; aligned (keys ``<video>[i]``): one row per key.

    Returns:
        list: Per segment a dict: ``video_id``, ``segment``, ``label``
        float ``[7]``, ``interval`` (start, end) s; or, for a bad one,
        ``video_id``, ``segment`` and ``error`` (a
        :class:`BadSampleError`).
    """
    csd = CsdFile(path)
    rows = []
    try:
        for key in sorted(csd.keys()):
            match = ALIGNED_KEY.match(key)
            video = match.group(1) if match else key
            try:
                labels = csd.features(key)  # [n, 7]
                intervals = csd.intervals(key)  # [n, 2]
                if match and len(labels) != 1:
                    raise BadSampleError(
                        path, f'"{csd.root}/data/{key}": an aligned '
                        f'segment with {len(labels)} label rows')
            except BadSampleError as e:
                rows.append(dict(video_id=video, segment='', error=e))
                continue
            for i, (label, interval) in enumerate(zip(labels, intervals)):
                segment = match.group(2) if match else str(i)
                where = f'"{csd.root}/data/{key}"' + ('' if match else
                                                      f' row {i}')
                try:
                    rows.append(
                        dict(
                            video_id=video,
                            segment=segment,
                            label=check_label(label, path, where, True),
                            interval=(float(interval[0]), float(interval[1]))))
                except BadSampleError as e:
                    rows.append(dict(video_id=video, segment=segment, error=e))
    finally:
        csd.close()
    return rows


def pad_sequence(
        values: np.ndarray,
        length: Optional[int],
        mask: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Zero-pad (at the end) or truncate (keeping the start) a sequence.

    Args:
        values (np.ndarray): ``[T, D]`` frames.
        length (int, optional): The fixed length ``L``; None keeps ``T``.
        mask (np.ndarray, optional): ``[T]`` bool, the real frames;
            defaults to all.

    Returns:
        tuple: float32 ``[L, D]`` and the bool mask ``[L]`` (True = a real
        frame).
    """
    values = np.nan_to_num(
        np.asarray(values, np.float32), nan=0., posinf=0., neginf=0.)
    mask = np.ones(len(values), bool) if mask is None else np.asarray(
        mask, bool)
    if length is None or length == len(values):
        return values, mask
    out = np.zeros((length, ) + values.shape[1:], np.float32)  # [L, D]
    out_mask = np.zeros(length, bool)  # [L]
    keep = min(length, len(values))
    out[:keep], out_mask[:keep] = values[:keep], mask[:keep]
    return out, out_mask


def prefix_mask(lengths: Sequence[int], length: int, path: str,
                key: str) -> np.ndarray:
    """``[N, L]`` masks of the first ``lengths[i]`` frames (MMSA pads at
    the end)."""
    lengths = np.asarray(lengths).reshape(-1).astype(np.int64)
    if (lengths < 0).any() or (lengths > length).any():
        bad = int(np.flatnonzero((lengths < 0) | (lengths > length))[0])
        raise BadSampleError(
            path, f'{key}[{bad}] = {lengths[bad]} is not a length of the '
            f'{length} stored frames')
    return np.arange(length)[None] < lengths[:, None]  # [N, L]
