# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os.path as osp
from typing import Callable, List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmemo.registry import DATASETS
# the label of an unannotated frame (Aff-Wild2's), also that of padding
from mmemo.utils.affwild2_va_txt import UNANNOTATED
from .errors import BadSampleError, SkipsBadSamples
from .media import check_file


def valid_va(labels: np.ndarray) -> np.ndarray:
    """Frames whose valence and arousal are both annotated (``>= -1``).

    Args:
        labels (np.ndarray): ``[N, 2]`` valence, arousal.

    Returns:
        np.ndarray: ``[N]`` bool.
    """
    return np.all(labels >= -1, axis=1)


@DATASETS.register_module()
class VASequenceDataset(SkipsBadSamples, BaseDataset):
    """Windows of sub-clips over videos labelled per frame with valence and
    arousal: the sampling of JCA / JMT on Aff-Wild2.

    A *window* holds ``L = seq_len`` sub-clips; sub-clip ``k`` predicts the
    label of its last frame, its *target frame*; consecutive targets are
    ``s = sub_clip_stride`` frames apart, so a window spans ``L * s``
    frames (JCA: 16 sub-clips of 32 frames = 512 frames). Videos are cut
    into *blocks* of ``L * s`` frames, block ``b`` starting at
    ``b * L * s``; a window is a block and an offset ``o`` in ``0..s-1``
    with the targets ``b * L * s + o + k * s``, ``k = 0..L-1``.

    - Training (``test_mode=False``): one window per block, ``o = s - 1``
      (each sub-clip ends a full ``s``-frame stretch); windows are
      therefore ``L * s`` frames apart and do not overlap. With
      ``random_offset=True`` every draw of a window picks ``o`` anew,
      uniformly (a window whose new targets are all unannotated keeps
      ``o = s - 1``), so across epochs every frame becomes a target.
    - Test (``test_mode=True``): every block with every offset ``0..s-1``
      (JCA's "shift by one frame 32 times, then jump ahead"): every frame
      of a video is the target of exactly one window, so per-frame
      predictions cover the whole video.

    Targets past the end of the video are padding (-1), the last window of
    a video is padded. Windows without any annotated target are left out.

    The per-video data (paths, labels) live in a table, :attr:`videos`;
    ``data_list`` holds small entries (``video_idx``, ``start``,
    ``offset``), which :meth:`get_data_info` turns into the sample:

    ================ ========================================================
    key              content
    ================ ========================================================
    video_id         annotation stem, e.g. ``10-60-1280x720_left``
    filename         the video (when known; ``_left``/``_right`` share one)
    frame_dir        face-image folder (face-image sources)
    audio_path       (optional) a separate audio file
    num_frames       frames of the annotation
    fps              (optional) the real frame rate, when the set gives it
    subject          (optional) the subject, when the set names it
    target_frames    int64 ``[L]``: target frame of each sub-clip, -1 = pad
    gt_va            float32 ``[L, 2]``: their valence and arousal, -5 where
                     unannotated or padding
    va_mask          bool ``[L]``: annotated and not padding
    video_idx        row of :attr:`videos`
    start, offset    the window's block start and offset
    sample_idx       index in the dataset
    ================ ========================================================

    Subclasses implement :meth:`load_videos`. **Bad input** is handled as
    in :class:`AVEmotionDataset`: with ``on_bad_sample='error'`` (default) a
    missing file or unreadable annotation stops the build with a
    :class:`BadSampleError` naming the file; with ``'skip'`` such videos are
    left out (counted in :attr:`skipped`, logged), and during training a
    window whose media fail to load is replaced by another. A test-mode
    dataset raises instead, naming the file and the fix; ``exclude_file``
    leaves listed videos out in every mode.

    Args:
        pipeline (list): Processing pipeline.
        data_root (str): Root of the data. Defaults to ``''``.
        seq_len (int): Sub-clips per window, ``L``. Defaults to 16.
        sub_clip_stride (int): Frames between consecutive target frames,
            ``s``. Defaults to 32.
        random_offset (bool): Draw the offset of training windows anew at
            every draw. Defaults to False.
        check_files (bool): Check at build time that the media files exist
            and are not git-lfs pointers. Defaults to True.
        on_bad_sample (str): ``'error'`` or ``'skip'``.
            Defaults to ``'error'``.
        exclude_file (str, optional): Videos to leave out, one per line
            (as ``tools/data/check_dataset.py`` writes them).
        test_mode (bool): Dense test windows. Defaults to False.
        **kwargs: Other arguments of mmengine's ``BaseDataset``.
    """

    def __init__(self,
                 pipeline: List[Union[dict, Callable]],
                 data_root: str = '',
                 seq_len: int = 16,
                 sub_clip_stride: int = 32,
                 random_offset: bool = False,
                 check_files: bool = True,
                 on_bad_sample: str = 'error',
                 exclude_file: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if seq_len < 1 or sub_clip_stride < 1:
            raise ValueError('seq_len and sub_clip_stride must be >= 1, got '
                             f'{seq_len} and {sub_clip_stride}')
        self.seq_len = seq_len
        self.sub_clip_stride = sub_clip_stride
        self.random_offset = random_offset
        self.check_files = check_files
        self._init_bad_samples(on_bad_sample, exclude_file)
        self.videos: List[dict] = []
        kwargs.setdefault('data_prefix', dict())
        super().__init__(
            ann_file=kwargs.pop('ann_file', ''),
            pipeline=pipeline,
            data_root=data_root,
            test_mode=test_mode,
            **kwargs)

    # ------------------------------------------------------------ building
    def load_videos(self) -> List[Union[dict, BadSampleError]]:
        """Read the annotations of the videos.

        Returns:
            list: One dict per annotated video (``video_id``, ``labels``
            float ``[N, 2]`` valence/arousal with ``-5`` or any value below
            -1 for unannotated frames, and ``filename`` and/or
            ``frame_dir``, optionally ``audio_path``, ``fps``) or one
            :class:`BadSampleError` per unusable video.
        """
        raise NotImplementedError(
            f'{type(self).__name__} must implement load_videos()')

    def _check_video(self, video: dict) -> None:
        for key in ('filename', 'audio_path'):
            if video.get(key):
                check_file(video[key])
        if video.get('frame_dir') and not osp.isdir(video['frame_dir']):
            raise BadSampleError(video['frame_dir'],
                                 'face image folder not found')

    def window_starts(self, valid: np.ndarray) -> List[Tuple[int, int]]:
        """The windows of one video that have an annotated target.

        Args:
            valid (np.ndarray): ``[N]`` bool, annotated frames.

        Returns:
            list[tuple]: ``(start, offset)`` of each window.
        """
        span, s = self.seq_len * self.sub_clip_stride, self.sub_clip_stride
        frames = np.flatnonzero(valid)
        if self.test_mode:
            # target j belongs to block j // span, offset j % s (span is a
            # multiple of s): the windows of the annotated frames
            keys = np.unique(frames // span * s + frames % s)
            return [(int(k // s * span), int(k % s)) for k in keys]
        frames = frames[frames % s == s - 1]  # the training targets
        return [(int(b * span), s - 1) for b in np.unique(frames // span)]

    def load_data_list(self) -> List[dict]:
        """Read the videos, check their files and list their windows.

        Returns:
            list[dict]: ``video_idx``, ``start``, ``offset`` per window.
        """
        entries, bad = self._drop_listed(self.load_videos()), []
        videos = []
        for entry in entries:
            if isinstance(entry, BadSampleError):
                bad.append(entry)
                continue
            try:
                if self.check_files:
                    self._check_video(entry)
            except BadSampleError as e:
                bad.append(e)
                continue
            labels = np.asarray(entry['labels'], np.float32).reshape(-1, 2)
            valid = valid_va(labels)
            # one convention downstream: both columns -5 where unannotated
            entry['labels'] = np.where(valid[:, None], labels, UNANNOTATED)
            entry['valid'] = valid
            entry['num_frames'] = len(labels)
            entry['num_annotated'] = int(valid.sum())
            videos.append(entry)
        self._handle_bad(bad, when='while building the dataset')
        data_list, empty = [], []
        for index, video in enumerate(videos):
            windows = self.window_starts(video['valid'])
            if not windows:
                empty.append(video['video_id'])
            data_list += [
                dict(video_idx=index, start=start, offset=offset)
                for start, offset in windows
            ]
        if empty:
            # not an error (e.g. a face never visible), but never silent
            print_log(
                f'{type(self).__name__}: {len(empty)} video(s) have no '
                f'annotated target frame and give no window: {empty[:5]}'
                f'{" ..." if len(empty) > 5 else ""}',
                logger='current',
                level=logging.WARNING)
        if not data_list:
            raise ValueError(
                f'{type(self).__name__}: no window with an annotated frame '
                f'in {self.data_root or "."} ({len(videos)} usable '
                f'video(s), {len(bad)} bad)')
        self.videos = videos
        return data_list

    # ------------------------------------------------------------- loading
    def targets(self, video: dict, start: int, offset: int) -> np.ndarray:
        """Target frames of a window, -1 past the end of the video."""
        return self.window_targets(start + offset, video['num_frames'])

    def window_targets(self, first: int, end: int) -> np.ndarray:
        """Target frames ``first + k * s`` (``k = 0..L-1``) of one window,
        -1 from ``end`` on."""
        ends = first + self.sub_clip_stride * np.arange(self.seq_len)
        return np.where(ends < end, ends, -1).astype(np.int64)

    def dense_windows(self, first: int, end: int) -> List[List[np.ndarray]]:
        """The dense test windows over frames ``[first, end)`` of a media
        file without annotation (inference): blocks of ``L * s`` frames from
        ``first``, each with every offset ``0..s-1``, so every frame is the
        target of exactly one window.

        Args:
            first (int): First frame.
            end (int): One past the last frame.

        Returns:
            list[list[np.ndarray]]: Per block, the target frames (int64
            ``[L]``, -1 = padding) of its windows.
        """
        span = self.seq_len * self.sub_clip_stride
        blocks = []
        for start in range(first, end, span):
            windows = [
                self.window_targets(start + offset, end)
                for offset in range(self.sub_clip_stride)
            ]
            blocks.append([w for w in windows if (w >= 0).any()])
        return blocks

    def unlabelled(self) -> dict:
        """``gt_va`` (all unannotated) and ``va_mask`` (all False) of a
        window without annotation."""
        return dict(
            gt_va=np.full((self.seq_len, 2), UNANNOTATED, np.float32),
            va_mask=np.zeros(self.seq_len, np.bool_))

    def get_data_info(self, idx: int) -> dict:
        """The window's sample: the video's fields and its targets.

        Args:
            idx (int): Index of the window.

        Returns:
            dict: The keys listed in the class docstring.
        """
        info = super().get_data_info(idx)
        video = self.videos[info['video_idx']]
        start, offset = info['start'], info['offset']
        targets = self.targets(video, start, offset)
        if self.random_offset and not self.test_mode:
            drawn = np.random.randint(self.sub_clip_stride)
            moved = self.targets(video, start, drawn)
            real = moved[moved >= 0]
            if video['valid'][real].any():
                targets, info['offset'] = moved, drawn
        real = targets >= 0
        gt = np.full((self.seq_len, 2), UNANNOTATED, np.float32)
        gt[real] = video['labels'][targets[real]]
        mask = np.zeros(self.seq_len, np.bool_)
        mask[real] = video['valid'][targets[real]]
        for key in ('video_id', 'filename', 'frame_dir', 'audio_path',
                    'num_frames', 'fps', 'subject'):
            if video.get(key) is not None:
                info[key] = video[key]
        # mmaction's transforms (Flip, ...) read the modality
        info.update(
            target_frames=targets, gt_va=gt, va_mask=mask, modality='AV')
        return info

    def annotated_frames(self) -> int:
        """Annotated frames of all videos (what a dense test covers)."""
        return sum(v['num_annotated'] for v in self.videos)
