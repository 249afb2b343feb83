# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os.path as osp
from collections import Counter
from typing import Callable, Dict, Iterator, List, Optional, Union

from mmaction.datasets import BaseActionDataset
from mmengine.logging import print_log

from .errors import BadSampleError, SkipsBadSamples
from .mosei_sources import (MOSEI_EMOTIONS, MOSEI_LABELS, MOSEI_SPLITS,
                            load_folds, pad_sequence, read_label_csd,
                            read_label_csv)


def _segment_order(entry: dict) -> tuple:
    segment = entry['segment']
    return (entry['video_id'], 0, int(segment), '') if segment.isdigit() \
        else (entry['video_id'], 1, 0, segment)


class BaseMoseiDataset(SkipsBadSamples, BaseActionDataset):
    """CMU-MOSEI segments: what every released form shares.

    Zadeh et al., "Multimodal Language Analysis in the Wild: CMU-MOSEI
    Dataset and Interpretable Dynamic Fusion Graph", ACL 2018. 23,453
    annotated sentence segments of ~3,228 YouTube videos.

    One subclass per released form reads it:
    :class:`~mmemo.datasets.MoseiPickleDataset` (MMSA / MulT feature
    pickles), :class:`~mmemo.datasets.MoseiCsdDataset` (CMU-MultimodalSDK
    computational sequences) and :class:`~mmemo.datasets.MoseiRawDataset`
    (the segmented videos of ``CMU_MOSEI.zip``). A subclass implements
    :meth:`_load_entries`; this class keeps the split, the bad samples and
    the log.

    **Labels.** Each segment has the vector ``[sentiment, happy, sad,
    anger, surprise, disgust, fear]`` (:data:`MOSEI_LABELS`): sentiment in
    [-3, 3], emotion intensities in [0, 3]. It is the sample's ``targets``
    (float32 ``[7]``); the MMSA and MulT pickles carry sentiment only, so
    their emotion entries are NaN (the loss and the metric leave them out).
    A label outside these ranges is a bad sample. The ``.csd`` and raw
    forms read the labels from ``CMU_MOSEI_Labels.csd`` or a label CSV
    (:meth:`_labelled_segments`).

    **Splits.** ``split`` = ``'train'``, ``'valid'`` (or ``'val'``),
    ``'test'`` or ``'all'``. With ``split_by='official'`` (the default but
    for pickles) a segment belongs to the standard fold of its **video**
    (2,249 / 300 / 678 videos, ``folds_file``: the shipped copy of the SDK's
    lists by default); segments of videos in no fold are left out (counted
    in :attr:`fold_mismatches` as ``'none'``). ``split_by='source'`` (only a
    pickle has a split of its own) keeps the source's split; every segment
    whose video's official fold differs is counted in
    :attr:`fold_mismatches` (``'<source split>-><official>'``) and logged.

    **Samples.** ``targets``, ``video_id``, ``segment``, ``name`` (the
    source's id), ``split``; the feature forms add, per feature key ``k``:
    ``k`` float32 ``[L, D]``, ``k_mask`` bool ``[L]`` (True = a real frame)
    and ``k_length`` (:meth:`get_data_info`). Non-finite feature values
    (COVAREP's ``-inf``) are set to 0, as MMSA and MulT do.

    **Bad input.** A file that cannot be read (missing, not a pickle or
    HDF5 file, a missing split or key) raises :class:`BadSampleError` naming
    the file and the key. Per-segment problems (a label out of range, a
    segment missing from a feature file or without a frame inside its
    interval, a missing media file) stop the build with
    ``on_bad_sample='error'`` or are counted in :attr:`skipped` and logged
    with ``'skip'``.

    Args:
        ann_file (str): The source's labels (a pickle, ``.csd`` or
            ``.csv``).
        pipeline (list): Processing pipeline.
        split (str): Defaults to ``'train'``.
        data_root (str): Root of ``ann_file`` and the files it refers to.
            Defaults to ``''``.
        split_by (str, optional): ``'official'``, or ``'source'`` where
            the subclass allows it. Defaults to the first of
            :attr:`SPLIT_BY`.
        folds_file (str, optional): JSON of the folds (see
            :func:`load_folds`). Defaults to the official folds.
        on_bad_sample (str): ``'error'`` or ``'skip'``.
            Defaults to ``'error'``.
        exclude_file (str, optional): Segments (``video[index]`` names or
            media files) to leave out, one per line.
        test_mode (bool): As in mmengine's ``BaseDataset``.
        **kwargs: Other arguments of ``BaseActionDataset``.
    """

    METAINFO: dict = dict(labels=MOSEI_LABELS, emotions=MOSEI_EMOTIONS)
    #: The ``split_by`` values the source supports, its default first: a
    #: pickle has ``'source'`` (its own split) too, the other forms only
    #: the folds.
    SPLIT_BY = ('official', )
    #: Results key -> fixed length of a feature (None: as stored); the
    #: feature forms set their own.
    seq_lens: Dict[str, int] = {}

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 split: str = 'train',
                 data_root: str = '',
                 split_by: Optional[str] = None,
                 folds_file: Optional[str] = None,
                 on_bad_sample: str = 'error',
                 exclude_file: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        split = 'valid' if split == 'val' else split
        assert split in MOSEI_SPLITS + ('all', ), split
        split_by = split_by or self.SPLIT_BY[0]
        assert split_by in ('source', 'official'), split_by
        if split_by not in self.SPLIT_BY:
            raise ValueError(f"split_by='{split_by}' needs a pickle: "
                             f'{type(self).__name__} has no split of its own')
        self.split = split
        self.split_by = split_by
        self.folds_file = folds_file
        self._init_bad_samples(on_bad_sample, exclude_file)
        self.fold_mismatches: Counter = Counter()
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_root=data_root,
            test_mode=test_mode,
            modality='AV',
            **kwargs)

    # ------------------------------------------------------------ building
    def _path(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)

    def _load_entries(self) -> List[dict]:
        """The segments of the split, each a dict; a bad one has an
        ``error`` (a :class:`BadSampleError`). Implemented per source."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """Read the segments of the split.

        Returns:
            list[dict]: The usable segments.
        """
        entries = self._drop_listed(self._load_entries())
        self._handle_bad([e['error'] for e in entries if 'error' in e],
                         when='while building the dataset')
        data_list = [e for e in entries if 'error' not in e]
        name = type(self).__name__
        if not data_list:
            raise ValueError(
                f'{name}: no usable segment in split {self.split!r} of '
                f'{self.ann_file} (split_by={self.split_by!r}; skipped: '
                f'{dict(self.skipped)})')
        print_log(
            f'{name}: {len(data_list)} segments of '
            f'{len({e["video_id"] for e in data_list})} videos '
            f'(split {self.split!r} by {self.split_by} folds, '
            f'{osp.basename(self.ann_file)})',
            logger='current')
        return data_list

    def _assign_splits(self, entries: List[dict]) -> List[dict]:
        """Give each segment its split, keep the requested one and report
        the segments whose video's official fold differs (or is none).

        Bad segments are kept when they are in the split or their video is
        unknown (``''``).
        """
        folds = load_folds(self.folds_file)
        examples = []
        for entry in entries:
            official = folds.get(entry['video_id'])
            source = entry.get('source_split')
            entry['split'] = source if self.split_by == 'source' \
                else official
            if 'error' in entry:
                continue
            if official is None or source and official != source:
                self.fold_mismatches[f'{source}->{official or "none"}'
                                     if source else 'none'] += 1
                examples.append(
                    entry.get('name')
                    or f'{entry["video_id"]}[{entry["segment"]}]')
        if self.fold_mismatches:
            print_log(
                f'{type(self).__name__}: '
                f'{sum(self.fold_mismatches.values())} '
                f'segments of {self.ann_file} are not in the official fold '
                f'of their video ({dict(self.fold_mismatches)}; "none" = '
                f'the video is in no fold), e.g. {examples[:5]}; '
                f'split_by={self.split_by!r}',
                logger='current',
                level=logging.WARNING)
        return [
            e for e in entries
            if 'error' in e and not e['video_id'] or self.split == 'all'
            and e['split'] is not None or e['split'] == self.split
        ]

    # label files (.csd and raw forms) ------------------------------------
    def _labelled_segments(self) -> List[dict]:
        """The split's segments of the label file (``CMU_MOSEI_Labels.csd``
        or a CSV), sorted by video and segment (so that a per-video
        sequence is read once)."""
        segments = read_label_csv(self.ann_file) \
            if self.ann_file.lower().endswith('.csv') \
            else read_label_csd(self.ann_file)
        return sorted(self._assign_splits(segments), key=_segment_order)

    @staticmethod
    def _segment_entries(segments: List[dict],
                         make_entry: Callable[[dict], dict]) -> List[dict]:
        """``make_entry(segment)`` per good segment; one that raises
        :class:`BadSampleError` becomes a bad entry."""
        entries = []
        for segment in segments:
            if 'error' in segment:
                entries.append(segment)
                continue
            try:
                entries.append(make_entry(segment))
            except BadSampleError as e:
                entries.append(dict(segment, error=e))
        return entries

    @staticmethod
    def _entry(segment: dict, **extra) -> dict:
        """The sample info of a labelled segment."""
        video, index = segment['video_id'], segment['segment']
        return dict(
            video_id=video,
            segment=index,
            name=f'{video}[{index}]',
            targets=segment['label'],
            interval=segment.get('interval'),
            split=segment['split'],
            **extra)

    # ------------------------------------------------------------- loading
    def _read_features(self, info: dict) -> Iterator[tuple]:
        """``(key, values [T, D], mask [T] or None)`` per feature of a
        segment; the feature forms read theirs, the media form has none."""
        return iter(())

    def get_data_info(self, idx: int) -> dict:
        """The segment's info with its features (padded or truncated to
        ``seq_lens``) and their masks.

        Args:
            idx (int): Index of the segment.

        Returns:
            dict: The sample's info.
        """
        info = super().get_data_info(idx)
        for key, values, mask in self._read_features(info):
            values, mask = pad_sequence(values, self.seq_lens.get(key), mask)
            info[key] = values  # [L, D]
            info[f'{key}_mask'] = mask  # [L]
            info[f'{key}_length'] = int(mask.sum())
        return info
