# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, List, Optional, Union

from mmemo.registry import DATASETS
from .media import check_file
from .mosei_dataset import BaseMoseiDataset

#: Where CMU_MOSEI.zip puts the segmented videos.
MOSEI_VIDEO_PATTERN = 'Raw/Videos/Segmented/Combined/{video_id}_{segment}.mp4'


@DATASETS.register_module()
class MoseiRawDataset(BaseMoseiDataset):
    """CMU-MOSEI segments as the segmented media of ``CMU_MOSEI.zip``.

    For the AV pipelines (``AVInit``, ``LoadAudio``, ...): ``filename`` =
    ``video_pattern`` under ``data_root``, formatted with ``video_id`` and
    ``segment``; ``audio_path`` = ``audio_pattern`` likewise, or the
    video's own track when None. Labels from ``CMU_MOSEI_Labels.csd``
    (segment = the row of the label in its video, from 0, or the index of
    an aligned key) or a CSV (``video_id, segment, sentiment[, happy, ...,
    fear][, start, end][, video, audio]``; its ``video``/``audio`` columns
    override the patterns). The split is the official fold of the
    segment's video; ``name`` is ``<video_id>[<segment>]``.

    Args:
        ann_file (str): The labels (``.csd`` or ``.csv``).
        pipeline (list): Processing pipeline.
        video_pattern (str): The video of a segment.
            Defaults to :data:`MOSEI_VIDEO_PATTERN`.
        audio_pattern (str, optional): A separate audio file, e.g.
            ``'Raw/Audio/Segmented/{video_id}_{segment}.wav'``.
            Defaults to None (the video's own track).
        check_files (bool): Check at build time that the media exist.
            Defaults to True.
        **kwargs: ``split``, ``data_root``, ``folds_file``,
            ``on_bad_sample``, ``exclude_file``, ... of
            :class:`BaseMoseiDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 video_pattern: str = MOSEI_VIDEO_PATTERN,
                 audio_pattern: Optional[str] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self.video_pattern = video_pattern
        self.audio_pattern = audio_pattern
        self.check_files = check_files
        super().__init__(ann_file, pipeline, **kwargs)

    def _load_entries(self) -> List[dict]:
        """The media files of each segment, checked."""
        return self._segment_entries(self._labelled_segments(),
                                     self._media_entry)

    def _media_entry(self, segment: dict) -> dict:
        names = dict(video_id=segment['video_id'], segment=segment['segment'])
        video = segment.get('video') or self.video_pattern.format(**names)
        audio = segment.get('audio') or (self.audio_pattern.format(
            **names) if self.audio_pattern else None)
        entry = self._entry(segment, filename=self._path(video))
        if audio:
            entry['audio_path'] = self._path(audio)
        if self.check_files:
            for key in ('filename', 'audio_path'):
                if entry.get(key):
                    check_file(entry[key])
        return entry
