# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os
import os.path as osp
from collections import Counter
from typing import Callable, Dict, List, Optional, Union

import numpy as np
from mmaction.datasets import BaseActionDataset
from mmengine.logging import print_log

from mmemo.registry import DATASETS
from .errors import BadSampleError, SkipsBadSamples
from .media import check_file
from .mosei_sources import (MOSEI_EMOTIONS, MOSEI_LABELS, MOSEI_SPLITS,
                            CsdFile, as_strings, check_label, load_folds,
                            overlapping_rows, pad_sequence, prefix_mask,
                            read_label_csd, read_label_csv, read_pickle,
                            split_segment_name)

#: Where CMU_MOSEI.zip puts the segmented videos.
MOSEI_VIDEO_PATTERN = 'Raw/Videos/Segmented/Combined/{video_id}_{segment}.mp4'
#: MMSA's pickle keys of the per-sample lengths of a modality.
_MMSA_LENGTHS = dict(audio='audio_lengths', vision='vision_lengths')


def _segment_order(entry: dict) -> tuple:
    segment = entry['segment']
    return (entry['video_id'], 0, int(segment), '') if segment.isdigit() \
        else (entry['video_id'], 1, 0, segment)


@DATASETS.register_module()
class MoseiDataset(SkipsBadSamples, BaseActionDataset):
    """CMU-MOSEI segments, from any of its three released forms.

    Zadeh et al., "Multimodal Language Analysis in the Wild: CMU-MOSEI
    Dataset and Interpretable Dynamic Fusion Graph", ACL 2018. 23,453
    annotated sentence segments of ~3,228 YouTube videos.

    **Labels.** Each segment has the vector ``[sentiment, happy, sad,
    anger, surprise, disgust, fear]`` (:data:`MOSEI_LABELS`): sentiment in
    [-3, 3], emotion intensities in [0, 3]. It is the sample's ``targets``
    (float32 ``[7]``); the MMSA and MulT pickles carry sentiment only, so
    their emotion entries are NaN (the loss and the metric leave them out).
    A label outside these ranges is a bad sample.

    **Layouts** (``layout``):

    - ``'pickle'``: ``ann_file`` is MMSA's ``aligned_50.pkl`` /
      ``unaligned_50.pkl`` (``{'train'|'valid'|'test': {'audio', 'vision',
      'text', 'id', 'regression_labels', 'audio_lengths', ...}}``) or
      MulT's ``mosei_senti_data.pkl`` (``{'train'|...: {'audio', 'vision',
      'text', 'labels', 'id'}}``). ``features`` maps results keys to the
      pickle's keys (default ``dict(audio='audio', video='vision')``).
      Masks: from ``audio_lengths`` / ``vision_lengths`` (the first
      ``length`` frames; MMSA pads at the end) and, for ``text``, from
      ``text_bert``'s attention-mask row; all frames otherwise. The file is
      unpickled with a restricted unpickler (NumPy arrays and plain
      containers; ``allow_unsafe_pickle=True`` trusts it).
    - ``'csd'``: CMU-MultimodalSDK computational sequences. ``ann_file`` is
      ``CMU_MOSEI_Labels.csd`` (or a label CSV); ``features`` maps results
      keys to feature ``.csd`` files (``CMU_MOSEI_COVAREP.csd`` 74-d,
      ``CMU_MOSEI_VisualFacet42.csd`` 35-d,
      ``CMU_MOSEI_TimestampedWordVectors.csd`` 300-d GloVe, ...). A segment
      reads the key ``<video_id>[<segment>]`` of a sequence aligned to the
      labels, or, in an unaligned per-video sequence, the rows whose
      interval overlaps the segment's labelled interval. ``seq_lens`` (one
      per feature) zero-pads at the end or truncates (keeping the start).
    - ``'raw'``: the segmented media of ``CMU_MOSEI.zip`` for the AV
      pipelines (``AVInit``, ``LoadAudio``, ...): ``filename`` =
      ``video_pattern`` under ``data_root``, formatted with ``video_id`` and
      ``segment``; ``audio_path`` = ``audio_pattern`` likewise, or the
      video's own track when None. Labels from ``CMU_MOSEI_Labels.csd``
      (segment = the row of the label in its video, from 0, or the index of
      an aligned key) or a CSV (``video_id, segment, sentiment[, happy, ...,
      fear][, start, end][, video, audio]``; its ``video``/``audio`` columns
      override the patterns).

    **Splits.** ``split`` = ``'train'``, ``'valid'`` (or ``'val'``),
    ``'test'`` or ``'all'``. With ``split_by='official'`` (the default of
    the ``csd`` and ``raw`` layouts) a segment belongs to the standard fold
    of its **video** (2,249 / 300 / 678 videos, ``folds_file``: the shipped
    copy of the SDK's lists by default); segments of videos in no fold are
    left out (counted in :attr:`fold_mismatches` as ``'none'``). Pickles
    default to ``split_by='source'``, the pickle's own split; every
    segment whose video's official fold differs is counted in
    :attr:`fold_mismatches` (``'<pickle split>-><official>'``) and logged.

    **Samples.** ``targets``, ``video_id``, ``segment``, ``name`` (the
    source's id), ``split``; for the feature layouts, per feature key ``k``:
    ``k`` float32 ``[L, D]``, ``k_mask`` bool ``[L]`` (True = a real frame)
    and ``k_length``. Non-finite feature values (COVAREP's ``-inf``) are
    set to 0, as MMSA and MulT do.

    **Bad input.** A file that cannot be read (missing, not a pickle or
    HDF5 file, a missing split or key) raises :class:`BadSampleError` naming
    the file and the key. Per-segment problems (a label out of range, a
    segment missing from a feature file or without a frame inside its
    interval, a missing media file) stop the build with
    ``on_bad_sample='error'`` or are counted in :attr:`skipped` and logged
    with ``'skip'``.

    Args:
        ann_file (str): The pickle, or the labels (``.csd`` or ``.csv``).
        pipeline (list): Processing pipeline.
        layout (str): ``'pickle'``, ``'csd'`` or ``'raw'``.
            Defaults to ``'pickle'``.
        split (str): Defaults to ``'train'``.
        data_root (str): Root of ``ann_file``, the feature files and the
            media patterns. Defaults to ``''``.
        features (dict, optional): Results key -> pickle key or ``.csd``
            file. Defaults to ``dict(audio='audio', video='vision')`` for
            pickles; required for ``'csd'``.
        seq_lens (dict, optional): Results key -> fixed length; required
            for every ``.csd`` feature; for pickles None keeps the stored
            length.
        split_by (str, optional): ``'source'`` (pickles only) or
            ``'official'``. Defaults to ``'source'`` for pickles,
            ``'official'`` otherwise.
        folds_file (str, optional): JSON of the folds (see
            :func:`load_folds`). Defaults to the official folds.
        video_pattern (str): Raw layout: the video of a segment.
            Defaults to :data:`MOSEI_VIDEO_PATTERN`.
        audio_pattern (str, optional): Raw layout: a separate audio file,
            e.g. ``'Raw/Audio/Segmented/{video_id}_{segment}.wav'``.
            Defaults to None (the video's own track).
        check_files (bool): Raw layout: check at build time that the media
            exist. Defaults to True.
        allow_unsafe_pickle (bool): Unpickle any object. Defaults to False.
        on_bad_sample (str): ``'error'`` or ``'skip'``.
            Defaults to ``'error'``.
        exclude_file (str, optional): Segments (``video[index]`` names or
            media files) to leave out, one per line.
        test_mode (bool): As in mmengine's ``BaseDataset``.
        **kwargs: Other arguments of ``BaseActionDataset``.
    """

    METAINFO: dict = dict(labels=MOSEI_LABELS, emotions=MOSEI_EMOTIONS)

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 layout: str = 'pickle',
                 split: str = 'train',
                 data_root: str = '',
                 features: Optional[Dict[str, str]] = None,
                 seq_lens: Optional[Dict[str, int]] = None,
                 split_by: Optional[str] = None,
                 folds_file: Optional[str] = None,
                 video_pattern: str = MOSEI_VIDEO_PATTERN,
                 audio_pattern: Optional[str] = None,
                 check_files: bool = True,
                 allow_unsafe_pickle: bool = False,
                 on_bad_sample: str = 'error',
                 exclude_file: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        assert layout in ('pickle', 'csd', 'raw'), layout
        split = 'valid' if split == 'val' else split
        assert split in MOSEI_SPLITS + ('all', ), split
        split_by = split_by or ('source' if layout == 'pickle' else 'official')
        assert split_by in ('source', 'official'), split_by
        if split_by == 'source' and layout != 'pickle':
            raise ValueError(f"split_by='source' needs a pickle; the "
                             f'{layout!r} layout has no split of its own')
        if features is None and layout == 'pickle':
            features = dict(audio='audio', video='vision')
        if layout == 'csd':
            if not features:
                raise ValueError(
                    "layout='csd' needs `features`, e.g. dict(audio="
                    "'CMU_MOSEI_COVAREP.csd', video="
                    "'CMU_MOSEI_VisualFacet42.csd')")
            missing = set(features) - set(seq_lens or {})
            if missing:
                raise ValueError(
                    f'seq_lens must give a length for {sorted(missing)}: '
                    'segments cut from .csd files differ in length')
        self.layout = layout
        self.split = split
        self.features = dict(features or {}) if layout != 'raw' else {}
        self.seq_lens = dict(seq_lens or {})
        self.split_by = split_by
        self.folds_file = folds_file
        self.video_pattern = video_pattern
        self.audio_pattern = audio_pattern
        self.check_files = check_files
        self.allow_unsafe_pickle = allow_unsafe_pickle
        self._init_bad_samples(on_bad_sample, exclude_file)
        self.fold_mismatches: Counter = Counter()
        # pickle layout: source split -> results key -> (values, masks)
        self._arrays: Dict[str, Dict[str, tuple]] = {}
        self._handles: Dict[str, CsdFile] = {}  # open .csd files (per pid)
        self._handles_pid: Optional[int] = None
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

    def load_data_list(self) -> List[dict]:
        """Read the segments of the split.

        Returns:
            list[dict]: The usable segments.
        """
        # every entry is a dict; a bad one has an ``error``
        if self.layout == 'pickle':
            entries = self._assign_splits(self._load_pickle())
        else:
            segments = read_label_csv(self.ann_file) \
                if self.ann_file.lower().endswith('.csv') \
                else read_label_csd(self.ann_file)
            segments = sorted(
                self._assign_splits(segments), key=_segment_order)
            load = self._load_csd if self.layout == 'csd' else self._load_raw
            entries = load(segments)
        entries = self._drop_listed(entries)
        self._handle_bad([e['error'] for e in entries if 'error' in e],
                         when='while building the dataset')
        data_list = [e for e in entries if 'error' not in e]
        if not data_list:
            raise ValueError(
                f'MoseiDataset: no usable segment in split {self.split!r} of '
                f'{self.ann_file} (split_by={self.split_by!r}; skipped: '
                f'{dict(self.skipped)})')
        if self.layout == 'pickle':
            used = {e['source_split'] for e in data_list}
            self._arrays = {s: a for s, a in self._arrays.items() if s in used}
        print_log(
            f'MoseiDataset: {len(data_list)} segments of '
            f'{len({e["video_id"] for e in data_list})} videos '
            f'(split {self.split!r} by {self.split_by} folds, '
            f'{self.layout} {osp.basename(self.ann_file)})',
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
                f'MoseiDataset: {sum(self.fold_mismatches.values())} '
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

    # pickles ------------------------------------------------------------
    def _load_pickle(self) -> list:
        path = self.ann_file
        data = read_pickle(path, self.allow_unsafe_pickle)
        splits = [s for s in MOSEI_SPLITS if s in data]
        if not splits:
            raise BadSampleError(
                path, f'has no "train", "valid" or "test" split '
                f'(keys: {sorted(map(str, data))})')
        wanted = splits if self.split == 'all' or \
            self.split_by == 'official' else [self.split]
        entries = []
        for split in splits:
            part = data[split]
            if not isinstance(part, dict):
                raise BadSampleError(
                    path, f'["{split}"] is a {type(part).__name__}, not a '
                    'dict')
            labels = self._pickle_labels(part, split)  # [N, 7]
            names = self._pickle_names(part, split, len(labels))
            if split in wanted:
                self._arrays[split] = {
                    key: self._pickle_features(part, split, key, len(labels))
                    for key in self.features
                }
            for row, (name, label) in enumerate(zip(names, labels)):
                video, segment = name
                where = f'["{split}"][{row}] ({video} {segment})'
                try:
                    targets = check_label(label, path, where, False)
                except BadSampleError as e:
                    entries.append(
                        dict(
                            video_id=video,
                            segment=segment,
                            source_split=split,
                            error=e))
                    continue
                entries.append(
                    dict(
                        video_id=video,
                        segment=segment,
                        name=f'{video}$_${segment}',
                        targets=targets,
                        source_split=split,
                        row=row))
        return entries

    def _pickle_key(self, part: dict, split: str, key: str):
        if key not in part:
            raise BadSampleError(
                self.ann_file, f'["{split}"]["{key}"] is missing (keys: '
                f'{sorted(map(str, part))})')
        return part[key]

    def _pickle_labels(self, part: dict, split: str) -> np.ndarray:
        """``[N, 7]`` labels: MMSA's ``regression_labels`` (sentiment) or
        MulT's ``labels`` (``[N, 1, 1]`` sentiment, or all 7)."""
        key = 'regression_labels' if 'regression_labels' in part or \
            'labels' not in part else 'labels'
        values = np.asarray(self._pickle_key(part, split, key), np.float64)
        values = values.reshape(len(values), -1)
        if values.shape[1] not in (1, len(MOSEI_LABELS)):
            raise BadSampleError(
                self.ann_file, f'["{split}"]["{key}"] has {values.shape[1]} '
                f'values per sample; expected 1 (sentiment) or 7')
        labels = np.full((len(values), len(MOSEI_LABELS)), np.nan)
        labels[:, :values.shape[1]] = values
        return labels

    def _pickle_names(self, part: dict, split: str, num: int) -> list:
        """``(video_id, segment)`` per sample from ``id``: MMSA's
        ``video$_$clip`` strings, or rows whose first column is the video
        (the others, joined, the segment)."""
        if 'id' not in part:
            return [('', f'{split}{i}') for i in range(num)]
        ids = as_strings(part['id'])
        if len(ids) != num:
            raise BadSampleError(
                self.ann_file,
                f'["{split}"]["id"] has {len(ids)} entries for {num} labels')
        return [
            (i[0],
             ','.join(i[1:])) if isinstance(i, list) else split_segment_name(i)
            for i in ids
        ]

    def _pickle_features(self, part: dict, split: str, key: str,
                         num: int) -> tuple:
        """``(values [N, L, D] float32, masks [N, L] bool)`` of a feature."""
        name = self.features[key]
        values = np.asarray(self._pickle_key(part, split, name))
        if values.ndim != 3 or len(values) != num:
            raise BadSampleError(
                self.ann_file, f'["{split}"]["{name}"] has shape '
                f'{values.shape}; expected [{num}, length, dims]')
        values = np.nan_to_num(
            values.astype(np.float32), nan=0., posinf=0., neginf=0.)
        length = values.shape[1]
        if name in _MMSA_LENGTHS and _MMSA_LENGTHS[name] in part:
            masks = prefix_mask(part[_MMSA_LENGTHS[name]], length,
                                self.ann_file,
                                f'["{split}"]["{_MMSA_LENGTHS[name]}"]')
        elif name == 'text' and 'text_bert' in part and np.shape(
                part['text_bert'])[1:] == (3, length):
            # BERT's attention mask, MMSA's text lengths
            masks = np.asarray(part['text_bert'])[:, 1] > 0  # [N, L]
        else:
            masks = np.ones(values.shape[:2], bool)  # [N, L]
        return values, masks

    # computational sequences --------------------------------------------
    def _load_csd(self, segments: List[dict]) -> List[dict]:
        """Locate each segment's rows in the feature files."""
        files = {k: CsdFile(self._path(f)) for k, f in self.features.items()}
        entries = []
        try:
            intervals: Dict[str, tuple] = {}  # file -> (video, [n, 2])
            for segment in segments:
                if 'error' in segment:
                    entries.append(segment)
                    continue
                try:
                    reads = {
                        key: self._csd_rows(csd, segment, intervals)
                        for key, csd in files.items()
                    }
                except BadSampleError as e:
                    entries.append(dict(segment, error=e))
                    continue
                entries.append(self._entry(segment, reads=reads))
        finally:
            for csd in files.values():
                csd.close()
        return entries

    @staticmethod
    def _csd_rows(csd: CsdFile, segment: dict, cache: dict) -> tuple:
        """``(file, key, rows)`` of a segment in one feature sequence:
        its aligned key, or the rows of its video inside its interval."""
        video, index = segment['video_id'], segment['segment']
        aligned = f'{video}[{index}]'
        if aligned in csd:
            if not csd.num_rows(aligned):
                raise BadSampleError(
                    csd.path, f'"{csd.root}/data/{aligned}" has no frame')
            return csd.path, aligned, None
        if video not in csd:
            raise BadSampleError(
                csd.path, f'has neither "{csd.root}/data/{aligned}" nor '
                f'"{csd.root}/data/{video}"')
        if segment.get('interval') is None:
            raise BadSampleError(
                csd.path, f'"{csd.root}/data/{video}" is not aligned and '
                f'segment {index} has no interval to cut it to')
        if cache.get(csd.path, (None, ))[0] != video:
            # one video per file at a time: segments come sorted by video
            cache[csd.path] = (video, csd.intervals(video))
        start, end = segment['interval']
        rows = overlapping_rows(cache[csd.path][1], start, end)
        if not len(rows):
            raise BadSampleError(
                csd.path, f'"{csd.root}/data/{video}" has no frame inside '
                f'segment {index} [{start:.3f}, {end:.3f}] s')
        contiguous = rows[-1] - rows[0] + 1 == len(rows)
        return csd.path, video, (int(rows[0]), int(rows[-1]) + 1) \
            if contiguous else rows.tolist()

    # raw media ----------------------------------------------------------
    def _load_raw(self, segments: List[dict]) -> List[dict]:
        """The media files of each segment, checked."""
        entries = []
        for segment in segments:
            if 'error' in segment:
                entries.append(segment)
                continue
            names = dict(
                video_id=segment['video_id'], segment=segment['segment'])
            video = segment.get('video') or self.video_pattern.format(**names)
            audio = segment.get('audio') or (self.audio_pattern.format(
                **names) if self.audio_pattern else None)
            entry = self._entry(segment, filename=self._path(video))
            if audio:
                entry['audio_path'] = self._path(audio)
            try:
                if self.check_files:
                    for key in ('filename', 'audio_path'):
                        if entry.get(key):
                            check_file(entry[key])
            except BadSampleError as e:
                entries.append(dict(segment, error=e))
                continue
            entries.append(entry)
        return entries

    @staticmethod
    def _entry(segment: dict, **extra) -> dict:
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
    def _csd(self, path: str) -> CsdFile:
        """An open ``.csd`` file of this process (h5py handles are not
        shared with DataLoader workers)."""
        if self._handles_pid != os.getpid():
            self._handles, self._handles_pid = {}, os.getpid()
        if path not in self._handles:
            self._handles[path] = CsdFile(path)
        return self._handles[path]

    def get_data_info(self, idx: int) -> dict:
        """The segment's info with its (padded) features and masks.

        Args:
            idx (int): Index of the segment.

        Returns:
            dict: The sample's info.
        """
        info = super().get_data_info(idx)
        if self.layout == 'pickle':
            arrays = self._arrays[info['source_split']]
            for key, (values, masks) in arrays.items():
                self._set_feature(info, key, values[info['row']],
                                  masks[info['row']])
        elif self.layout == 'csd':
            for key, (path, h5_key, rows) in info.pop('reads').items():
                self._set_feature(info, key,
                                  self._csd(path).features(h5_key, rows))
        return info

    def _set_feature(self,
                     info: dict,
                     key: str,
                     values: np.ndarray,
                     mask: Optional[np.ndarray] = None) -> None:
        values, mask = pad_sequence(values, self.seq_lens.get(key), mask)
        info[key] = values  # [L, D]
        info[f'{key}_mask'] = mask  # [L]
        info[f'{key}_length'] = int(mask.sum())
