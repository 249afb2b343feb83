# Copyright (c) mmemo contributors. All rights reserved.
import csv
import glob
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from mmemo.registry import DATASETS
from mmemo.utils.affwild2_va_txt import parse_va_annotation
from .errors import BadSampleError
from .media import open_container
from .va_sequence_dataset import VASequenceDataset

#: Suffixes of the annotation files of videos with several subjects.
SUBJECT_SUFFIXES = ('_left', '_right', '_main')


def video_name_of(video_id: str) -> str:
    """The video of an annotation stem: ``10-60-1280x720_left`` ->
    ``10-60-1280x720`` (``_left``, ``_right``, ``_main`` removed)."""
    for suffix in SUBJECT_SUFFIXES:
        if video_id.endswith(suffix):
            return video_id[:-len(suffix)]
    return video_id


def read_va_annotation(path: str) -> np.ndarray:
    """Read an Aff-Wild2 VA annotation file (the format of
    :mod:`mmemo.utils.affwild2_va_txt`).

    Args:
        path (str): The txt file.

    Returns:
        np.ndarray: float32 ``[N, 2]`` valence, arousal per frame, as
        written (unannotated values kept).

    Raises:
        BadSampleError: The file is not such a file (naming it and the
            first offending line).
    """
    with open(path, encoding='utf-8-sig') as f:
        text = f.read()
    try:
        return parse_va_annotation(text)
    except ValueError as e:
        raise BadSampleError(path, str(e)) from None


def read_frames_fps(path: str) -> Dict[str, float]:
    """Read m3f's ``frames_fps.csv``: ``name,frames,fps`` per line.

    E.g. ``100-29-1080x1920,2639,30.0``: the real frame rate (the middle
    number of an Aff-Wild2 name is only approximate). A header line is
    allowed.

    Args:
        path (str): The csv file.

    Returns:
        dict: Name (video or annotation stem) -> fps.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: frames_fps file not found')
    table = {}
    with open(path, newline='') as f:
        for number, row in enumerate(csv.reader(f), 1):
            if not row or not ''.join(row).strip():
                continue
            try:
                if len(row) != 3:
                    raise ValueError
                fps = float(row[2])
            except ValueError:
                if number == 1:
                    continue  # a header
                raise ValueError(f'{path}: line {number}: expected '
                                 f'"name,frames,fps", got {row}')
            table[row[0].strip()] = fps
    return table


@DATASETS.register_module()
class AffWild2VADataset(VASequenceDataset):
    """Aff-Wild2 valence/arousal (ABAW VA challenge), read from its release.

    Kollias & Zafeiriou; EULA, academic use. One annotation txt per face
    (``<video>.txt``, or ``<video>_left.txt`` / ``<video>_right.txt`` for
    two faces, which share the video); ``valence,arousal`` header, then one
    line per video frame, ``-5`` where unannotated (see
    :func:`read_va_annotation`). Windows of sub-clips as in
    :class:`VASequenceDataset`.

    Layout (``data_root``)::

        annotations/VA_Estimation_Challenge/   (ann_dir; VA_Set in 2020/21)
            Train_Set/<video_id>.txt           (split_dirs['train'])
            Validation_Set/<video_id>.txt      (split_dirs['val'])
        videos/ or batch1/, batch2/            (video_dirs)
            <video>.mp4 / .avi
        cropped_aligned/<video_id>/00001.jpg   (frames_dir, source='frames')
        <audio_dir>/<video>.wav                (optional)

    ``source='video'`` reads the videos (``filename``; use
    :class:`AVInit` + :class:`AVDecode`); ``source='frames'`` the
    organisers' cropped-aligned faces (``frame_dir``; use
    :class:`LoadFaceFrames`), where the video, when found, still gives the
    audio track (``filename``) and, without ``frames_fps``, the frame rate
    (read from its header).

    Args:
        data_root (str): Root of the release.
        pipeline (list): Processing pipeline.
        split (str or sequence of str): Key(s) of ``split_dirs``, e.g.
            ``'train'``, ``'val'`` or ``('train', 'val')`` (for k-fold).
            Defaults to ``'train'``.
        ann_dir (str): The VA annotation folder, relative to ``data_root``.
            Defaults to ``'annotations/VA_Estimation_Challenge'`` (ABAW3+;
            ``'annotations/VA_Set'`` for ABAW 2020/21).
        split_dirs (dict, optional): Split -> subfolder of ``ann_dir``.
            Defaults to ``dict(train='Train_Set', val='Validation_Set')``.
        video_dirs (sequence of str): Folders searched for the videos, in
            order. Defaults to ``('videos', 'batch1', 'batch2')``.
        video_exts (sequence of str): Video extensions, in order of
            preference. Defaults to ``('.mp4', '.avi', '.mkv')``.
        source (str): ``'video'`` or ``'frames'``. Defaults to ``'video'``.
        frames_dir (str): Folder of the face-image folders.
            Defaults to ``'cropped_aligned'``.
        audio_dir (str, optional): Folder of separate ``<video>.wav``
            files; None = the video's own track. Defaults to None.
        with_audio (bool): Whether samples need audio (so its source must
            exist). Defaults to True.
        frames_fps (str, optional): m3f's ``frames_fps.csv`` (relative to
            ``data_root``): the real frame rates, given as ``fps``.
        **kwargs: Other arguments of :class:`VASequenceDataset`
            (``seq_len``, ``sub_clip_stride``, ``test_mode``, ...).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]],
                 split: Union[str, Sequence[str]] = 'train',
                 ann_dir: str = 'annotations/VA_Estimation_Challenge',
                 split_dirs: Optional[Dict[str, str]] = None,
                 video_dirs: Sequence[str] = ('videos', 'batch1', 'batch2'),
                 video_exts: Sequence[str] = ('.mp4', '.avi', '.mkv'),
                 source: str = 'video',
                 frames_dir: str = 'cropped_aligned',
                 audio_dir: Optional[str] = None,
                 with_audio: bool = True,
                 frames_fps: Optional[str] = None,
                 **kwargs) -> None:
        assert source in ('video', 'frames'), source
        self.split_dirs = dict(
            split_dirs or dict(train='Train_Set', val='Validation_Set'))
        self.splits = [split] if isinstance(split, str) else list(split)
        for name in self.splits:
            if name not in self.split_dirs:
                raise ValueError(f'split {name!r} is not one of '
                                 f'split_dirs {sorted(self.split_dirs)}')
        self.split = split
        self.ann_dir = ann_dir
        self.video_dirs = tuple(video_dirs)
        self.video_exts = tuple(e.lower() for e in video_exts)
        self.source = source
        self.frames_dir = frames_dir
        self.audio_dir = audio_dir
        self.with_audio = with_audio
        self.frames_fps = frames_fps
        super().__init__(pipeline=pipeline, data_root=data_root, **kwargs)

    def annotation_files(self) -> List[str]:
        """The annotation txt files of the selected split(s)."""
        files = []
        for name in self.splits:
            folder = osp.join(self.data_root, self.ann_dir,
                              self.split_dirs[name])
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{folder}: annotation folder not found (ann_dir='
                    f'{self.ann_dir!r}: "annotations/VA_Set" in ABAW '
                    '2020/21, "annotations/VA_Estimation_Challenge" later)')
            found = sorted(glob.glob(osp.join(folder, '*.txt')))
            if not found:
                raise FileNotFoundError(f'{folder}: no annotation .txt file')
            files += found
        return files

    def video_index(self) -> Dict[str, str]:
        """Video name -> path, over ``video_dirs`` (first folder wins, then
        the first of ``video_exts``)."""
        index, exists = {}, False
        for folder in self.video_dirs:
            root = osp.join(self.data_root, folder)
            if not osp.isdir(root):
                continue
            exists = True
            found = {}
            for name in os.listdir(root):
                stem, ext = osp.splitext(name)
                if ext.lower() in self.video_exts:
                    rank = self.video_exts.index(ext.lower())
                    found.setdefault(stem, []).append((rank, name))
            for stem, names in found.items():
                index.setdefault(stem, osp.join(root, min(names)[1]))
        if not exists and self._needs_video():
            raise FileNotFoundError(
                f'none of the video folders {list(self.video_dirs)} exists '
                f'in {self.data_root}')
        return index

    def _needs_video(self) -> bool:
        return self.source == 'video' or (self.with_audio
                                          and self.audio_dir is None)

    @staticmethod
    def _header_fps(path: str) -> Optional[float]:
        with open_container(path) as container:
            stream = container.streams.video[0] \
                if container.streams.video else None
            rate = stream and (stream.average_rate or stream.guessed_rate)
        return float(rate) if rate else None

    def video_entry(self, video_id: str, ann_file: str, labels: np.ndarray,
                    videos: Dict[str, str], fps_table: Dict[str,
                                                            float]) -> dict:
        """The table row of one annotation file.

        Args:
            video_id (str): The annotation stem.
            ann_file (str): The annotation file (named in errors).
            labels (np.ndarray): ``[N, 2]`` valence, arousal.
            videos (dict): :meth:`video_index`.
            fps_table (dict): :func:`read_frames_fps` (or empty).

        Returns:
            dict: The row (see :meth:`VASequenceDataset.load_videos`).
        """
        name = video_name_of(video_id)
        entry = dict(video_id=video_id, ann_file=ann_file, labels=labels)
        video = videos.get(name)
        if video is not None:
            entry['filename'] = video
        elif self._needs_video():
            raise BadSampleError(
                ann_file, f'no video {name}{{{",".join(self.video_exts)}}} '
                f'in {list(self.video_dirs)} under {self.data_root}')
        if self.source == 'frames':
            entry['frame_dir'] = osp.join(self.data_root, self.frames_dir,
                                          video_id)
        if self.with_audio and self.audio_dir is not None:
            entry['audio_path'] = osp.join(self.data_root, self.audio_dir,
                                           name + '.wav')
        fps = fps_table.get(video_id, fps_table.get(name))
        if fps is None and self.source == 'frames' and self.with_audio \
                and video is not None:
            # face images carry no time: the audio needs the video's rate
            fps = self._header_fps(video)
        if fps is not None:
            entry['fps'] = fps
        return entry

    def load_videos(self) -> List[Union[dict, BadSampleError]]:
        """Read the annotation files of the split and find their media.

        Returns:
            list: A table row or a :class:`BadSampleError` per file.
        """
        files = self.annotation_files()
        videos = self.video_index()
        fps_table = read_frames_fps(
            osp.join(self.data_root, self.frames_fps)) \
            if self.frames_fps else {}
        entries = []
        for path in files:
            video_id = osp.splitext(osp.basename(path))[0]
            try:
                entries.append(
                    self.video_entry(video_id, path, read_va_annotation(path),
                                     videos, fps_table))
            except BadSampleError as e:
                entries.append(e)
        return entries
