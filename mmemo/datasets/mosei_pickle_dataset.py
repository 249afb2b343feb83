# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, Dict, Iterator, List, Optional, Union

import numpy as np

from mmemo.registry import DATASETS
from .errors import BadSampleError
from .mosei_dataset import BaseMoseiDataset
from .mosei_sources import (MOSEI_LABELS, MOSEI_SPLITS, as_strings,
                            check_label, prefix_mask, read_pickle,
                            split_segment_name)

#: MMSA's pickle keys of the per-sample lengths of a modality.
_MMSA_LENGTHS = dict(audio='audio_lengths', vision='vision_lengths')


@DATASETS.register_module()
class MoseiPickleDataset(BaseMoseiDataset):
    """CMU-MOSEI segments from a feature pickle (MMSA's or MulT's).

    ``ann_file`` is MMSA's ``aligned_50.pkl`` / ``unaligned_50.pkl``
    (``{'train'|'valid'|'test': {'audio', 'vision', 'text', 'id',
    'regression_labels', 'audio_lengths', ...}}``) or MulT's
    ``mosei_senti_data.pkl`` (``{'train'|...: {'audio', 'vision', 'text',
    'labels', 'id'}}``). ``features`` maps results keys to the pickle's keys.
    Masks: from ``audio_lengths`` / ``vision_lengths`` (the first ``length``
    frames; MMSA pads at the end) and, for ``text``, from ``text_bert``'s
    attention-mask row; all frames otherwise. The file is unpickled with a
    restricted unpickler (NumPy arrays and plain containers;
    ``allow_unsafe_pickle=True`` trusts it).

    The labels are the pickle's sentiment (MMSA's ``regression_labels``,
    MulT's ``labels``); the emotions are NaN unless MulT's ``labels`` give
    all 7 values. The split is the pickle's own by default
    (``split_by='source'``; ``'official'`` redistributes the segments by
    the folds), checked against the official folds (see
    :class:`BaseMoseiDataset`); ``name`` is ``<video_id>$_$<segment>``.

    Args:
        ann_file (str): The pickle.
        pipeline (list): Processing pipeline.
        features (dict, optional): Results key -> pickle key. Defaults to
            ``dict(audio='audio', video='vision')``.
        seq_lens (dict, optional): Results key -> fixed length; None keeps
            the stored length.
        allow_unsafe_pickle (bool): Unpickle any object. Defaults to False.
        **kwargs: ``split``, ``data_root``, ``split_by``, ``folds_file``,
            ``on_bad_sample``, ... of :class:`BaseMoseiDataset`.
    """

    SPLIT_BY = ('source', 'official')

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 features: Optional[Dict[str, str]] = None,
                 seq_lens: Optional[Dict[str, int]] = None,
                 allow_unsafe_pickle: bool = False,
                 **kwargs) -> None:
        self.features = dict(audio='audio', video='vision') \
            if features is None else dict(features)
        self.seq_lens = dict(seq_lens or {})
        self.allow_unsafe_pickle = allow_unsafe_pickle
        # source split -> results key -> (values, masks)
        self._arrays: Dict[str, Dict[str, tuple]] = {}
        super().__init__(ann_file, pipeline, **kwargs)

    # ------------------------------------------------------------ building
    def _load_entries(self) -> List[dict]:
        return self._assign_splits(self._load_pickle())

    def load_data_list(self) -> List[dict]:
        """Read the segments of the split.

        Returns:
            list[dict]: The usable segments.
        """
        data_list = super().load_data_list()
        # the features of the source splits no sample uses are dropped
        used = {e['source_split'] for e in data_list}
        self._arrays = {s: a for s, a in self._arrays.items() if s in used}
        return data_list

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

    # ------------------------------------------------------------- loading
    def _read_features(self, info: dict) -> Iterator[tuple]:
        """The segment's row of each feature's arrays."""
        arrays = self._arrays[info['source_split']]
        for key, (values, masks) in arrays.items():
            yield key, values[info['row']], masks[info['row']]
