# Copyright (c) mmemo contributors. All rights reserved.
import csv
import glob
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from mmemo.registry import DATASETS
from .errors import BadSampleError
from .va_sequence_dataset import UNANNOTATED, VASequenceDataset


def subject_id(value: Union[str, int]) -> str:
    """A RECOLA subject as its file stem: ``16``, ``'16'``, ``'P16'`` ->
    ``'P16'``."""
    text = str(value).strip()
    return text if text.upper().startswith('P') else f'P{text}'


def read_recola_ratings(path: str) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Read a RECOLA rating file (one dimension, all raters).

    ``;``-separated, header ``time;FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3`` (the
    release's trailing spaces are stripped), then one row per 40 ms.

    Args:
        path (str): ``RECOLA-Annotation/emotional_behaviour/<dim>/P<id>.csv``.

    Returns:
        tuple: ``times`` ``[K]`` in seconds, ``ratings`` ``[K, R]`` and the
        ``R`` rater names.
    """
    if not osp.isfile(path):
        raise BadSampleError(path, 'annotation file not found')
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.reader(f, delimiter=';')
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 2 or header[0] != 'time':
            raise BadSampleError(
                path, 'header must be "time;<rater>;..." (e.g. '
                f'"time;FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3"), got {header}')
        rows = []
        for number, row in enumerate(reader, 2):
            if not ''.join(row).strip():
                continue
            if len(row) == len(header) + 1 and not row[-1].strip():
                row = row[:-1]  # a trailing separator
            if len(row) != len(header):
                raise BadSampleError(
                    path, f'line {number}: {len(row)} fields, the header '
                    f'has {len(header)}')
            try:
                rows.append([float(x) for x in row])
            except ValueError:
                raise BadSampleError(
                    path, f'line {number}: not numbers: {";".join(row)!r}')
    if not rows:
        raise BadSampleError(path, 'has no rating row after the header')
    data = np.asarray(rows, np.float64)
    times, ratings = data[:, 0], data[:, 1:]
    if not np.isfinite(data).all():
        raise BadSampleError(path, 'holds a non-finite value')
    if np.any(np.diff(times) <= 0):
        raise BadSampleError(path, 'the time column is not increasing')
    if np.abs(ratings).max() > 1 + 1e-6:
        raise BadSampleError(path, 'a rating lies outside [-1, 1]')
    return times, ratings, header[1:]


def frame_labels(times: np.ndarray, values: np.ndarray,
                 fps: float) -> np.ndarray:
    """Sample a label track at the video frames: each frame takes the
    label nearest in time; frames further than half a label step from any
    label are unannotated (-5).

    Args:
        times (np.ndarray): ``[K]`` increasing label times, s.
        values (np.ndarray): ``[K]`` labels.
        fps (float): Video frame rate.

    Returns:
        np.ndarray: ``[N]`` labels of frames ``0 .. round(times[-1] * fps)``
        (frame ``f`` at ``f / fps`` s).
    """
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / fps
    t = np.arange(int(round(times[-1] * fps)) + 1) / fps
    after = np.clip(np.searchsorted(times, t), 0, len(times) - 1)
    before = np.maximum(after - 1, 0)
    near = np.where(
        np.abs(times[before] - t) <= np.abs(times[after] - t), before, after)
    labels = values[near].astype(np.float32)
    labels[np.abs(times[near] - t) > step / 2 + 1e-6] = UNANNOTATED
    return labels


@DATASETS.register_module()
class RecolaDataset(VASequenceDataset):
    """RECOLA valence/arousal (Ringeval et al., FG 2013; EULA, academic).

    Read from the original release::

        RECOLA-Annotation/emotional_behaviour/{arousal,valence}/P<id>.csv
        RECOLA-Video-recordings/P<id>.mp4
        RECOLA-Audio-recordings/P<id>.wav

    Each rating file holds the ``time`` (s, every 40 ms = 25 Hz) and one
    column per rater (``FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3``, see
    :func:`read_recola_ratings`); the gold standard is the mean of the
    raters. A label at time ``t`` belongs to video frame ``round(t * fps)``
    (row ``k`` = frame ``k`` at 25 fps; at another rate each frame takes the
    label nearest in time, :func:`frame_labels`). Windows of sub-clips as in
    :class:`VASequenceDataset`; ``video_id`` and ``subject`` are
    ``'P<id>'``.

    The AVEC partitions (9 train / 9 development / 9 test subjects) are not
    part of the release: give them as ``subjects`` (in the config).

    Args:
        data_root (str): Root of the release.
        pipeline (list): Processing pipeline.
        subjects (sequence, optional): Subjects of the partition (``16`` or
            ``'P16'``); None = every rating file found.
        ann_dir (str): Folder of ``arousal/`` and ``valence/``. Defaults to
            ``'RECOLA-Annotation/emotional_behaviour'``.
        video_dir (str): Defaults to ``'RECOLA-Video-recordings'``.
        audio_dir (str, optional): Folder of ``P<id>.wav``; None = the
            video's own track. Defaults to ``'RECOLA-Audio-recordings'``.
        video_ext (str): Defaults to ``'.mp4'``.
        fps (float): Video frame rate the labels are mapped to.
            Defaults to 25.
        with_audio (bool): Whether samples need the wav (checked).
            Defaults to True.
        **kwargs: Other arguments of :class:`VASequenceDataset`
            (``seq_len``, ``sub_clip_stride``, ``test_mode``, ...).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]],
                 subjects: Optional[Sequence[Union[str, int]]] = None,
                 ann_dir: str = 'RECOLA-Annotation/emotional_behaviour',
                 video_dir: str = 'RECOLA-Video-recordings',
                 audio_dir: Optional[str] = 'RECOLA-Audio-recordings',
                 video_ext: str = '.mp4',
                 fps: float = 25.,
                 with_audio: bool = True,
                 **kwargs) -> None:
        self.subjects = None if subjects is None else [
            subject_id(s) for s in subjects
        ]
        self.ann_dir = ann_dir
        self.video_dir = video_dir
        self.audio_dir = audio_dir
        self.video_ext = video_ext
        self.fps = fps
        self.with_audio = with_audio
        super().__init__(pipeline=pipeline, data_root=data_root, **kwargs)

    def _subjects(self, folder: str) -> List[str]:
        if self.subjects is not None:
            if not self.subjects:
                raise ValueError(
                    f'{type(self).__name__}: `subjects` is empty: list the '
                    'partition\'s subjects (the AVEC partitions are not part'
                    ' of the RECOLA release), or None for every subject')
            return self.subjects
        stems = [
            osp.splitext(osp.basename(p))[0]
            for p in glob.glob(osp.join(folder, 'P*.csv'))
        ]
        # numeric order: P9 before P16
        return sorted(stems, key=lambda s: (len(s), s))

    def video_entry(self, subject: str) -> dict:
        """The table row of one subject.

        Args:
            subject (str): ``'P<id>'``.

        Returns:
            dict: The row (see :meth:`VASequenceDataset.load_videos`).
        """
        root = osp.join(self.data_root, self.ann_dir)
        arousal_file = osp.join(root, 'arousal', subject + '.csv')
        valence_file = osp.join(root, 'valence', subject + '.csv')
        t_a, arousal, _ = read_recola_ratings(arousal_file)
        t_v, valence, _ = read_recola_ratings(valence_file)
        if len(t_a) != len(t_v) or not np.allclose(t_a, t_v, atol=1e-6):
            raise BadSampleError(
                valence_file, f'its {len(t_v)} rating times differ from '
                f'the {len(t_a)} of {arousal_file}')
        # gold standard: the mean of the raters
        labels = np.stack([
            frame_labels(t_v, valence.mean(axis=1), self.fps),
            frame_labels(t_a, arousal.mean(axis=1), self.fps)
        ],
                          axis=1)
        entry = dict(
            video_id=subject,
            subject=subject,
            ann_file=arousal_file,
            labels=labels,
            fps=self.fps,
            filename=osp.join(self.data_root, self.video_dir,
                              subject + self.video_ext))
        if self.with_audio and self.audio_dir is not None:
            entry['audio_path'] = osp.join(self.data_root, self.audio_dir,
                                           subject + '.wav')
        return entry

    def load_videos(self) -> List[Union[dict, BadSampleError]]:
        """Read the rating files of the subjects.

        Returns:
            list: A table row or a :class:`BadSampleError` per subject.
        """
        folder = osp.join(self.data_root, self.ann_dir, 'arousal')
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{folder}: RECOLA rating folder not found (ann_dir='
                f'{self.ann_dir!r})')
        subjects = self._subjects(folder)
        if not subjects:
            raise FileNotFoundError(f'{folder}: no P<id>.csv rating file')
        entries = []
        for subject in subjects:
            try:
                entries.append(self.video_entry(subject))
            except BadSampleError as e:
                entries.append(e)
        return entries
