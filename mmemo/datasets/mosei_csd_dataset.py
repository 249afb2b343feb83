# Copyright (c) mmemo contributors. All rights reserved.
import os
from typing import Callable, Dict, Iterator, List, Optional, Union

from mmemo.registry import DATASETS
from .errors import BadSampleError
from .mosei_dataset import BaseMoseiDataset
from .mosei_sources import CsdFile, overlapping_rows


@DATASETS.register_module()
class MoseiCsdDataset(BaseMoseiDataset):
    """CMU-MOSEI segments from CMU-MultimodalSDK computational sequences.

    ``ann_file`` is ``CMU_MOSEI_Labels.csd`` (or a label CSV, see
    :meth:`BaseMoseiDataset._labelled_segments`); ``features`` maps
    results keys to feature ``.csd`` files (``CMU_MOSEI_COVAREP.csd``
    74-d, ``CMU_MOSEI_VisualFacet42.csd`` 35-d,
    ``CMU_MOSEI_TimestampedWordVectors.csd`` 300-d GloVe, ...). A segment
    reads the key ``<video_id>[<segment>]`` of a sequence aligned to the
    labels, or, in an unaligned per-video sequence, the rows whose interval
    overlaps the segment's labelled interval. ``seq_lens`` (one per
    feature) zero-pads at the end or truncates (keeping the start). The
    split is the official fold of the segment's video; ``name`` is
    ``<video_id>[<segment>]``.

    Args:
        ann_file (str): The labels (``.csd`` or ``.csv``).
        pipeline (list): Processing pipeline.
        features (dict): Results key -> ``.csd`` file (under
            ``data_root``).
        seq_lens (dict): Results key -> fixed length, for every feature
            (segments cut from ``.csd`` files differ in length).
        **kwargs: ``split``, ``data_root``, ``folds_file``,
            ``on_bad_sample``, ... of :class:`BaseMoseiDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 features: Optional[Dict[str, str]] = None,
                 seq_lens: Optional[Dict[str, int]] = None,
                 **kwargs) -> None:
        if not features:
            raise ValueError(
                "MoseiCsdDataset needs `features`, e.g. dict(audio="
                "'CMU_MOSEI_COVAREP.csd', video="
                "'CMU_MOSEI_VisualFacet42.csd')")
        missing = set(features) - set(seq_lens or {})
        if missing:
            raise ValueError(
                f'seq_lens must give a length for {sorted(missing)}: '
                'segments cut from .csd files differ in length')
        self.features = dict(features)
        self.seq_lens = dict(seq_lens)
        self._handles: Dict[str, CsdFile] = {}  # open .csd files (per pid)
        self._handles_pid: Optional[int] = None
        super().__init__(ann_file, pipeline, **kwargs)

    # ------------------------------------------------------------ building
    def _load_entries(self) -> List[dict]:
        """Locate each segment's rows in the feature files."""
        segments = self._labelled_segments()
        files = {k: CsdFile(self._path(f)) for k, f in self.features.items()}
        intervals: Dict[str, tuple] = {}  # file -> (video, [n, 2])
        try:
            return self._segment_entries(
                segments, lambda segment: self._entry(
                    segment,
                    reads={
                        key: self._csd_rows(csd, segment, intervals)
                        for key, csd in files.items()
                    }))
        finally:
            for csd in files.values():
                csd.close()

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

    # ------------------------------------------------------------- loading
    def _csd(self, path: str) -> CsdFile:
        """An open ``.csd`` file of this process (h5py handles are not
        shared with DataLoader workers)."""
        if self._handles_pid != os.getpid():
            self._handles, self._handles_pid = {}, os.getpid()
        if path not in self._handles:
            self._handles[path] = CsdFile(path)
        return self._handles[path]

    def _read_features(self, info: dict) -> Iterator[tuple]:
        """The segment's rows of each feature file (``reads``, located
        at build time)."""
        for key, (path, h5_key, rows) in info.pop('reads').items():
            yield key, self._csd(path).features(h5_key, rows), None
