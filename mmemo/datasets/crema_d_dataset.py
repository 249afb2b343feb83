# Copyright (c) mmemo contributors. All rights reserved.
import csv
import logging
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmengine.logging import print_log

from mmemo.registry import DATASETS
from .av_emotion_dataset import AVEmotionDataset
from .errors import BadSampleError

#: Emotion codes of the file names, in label order (HiCMAE's, alphabetical).
CREMA_D_CODES = ('ANG', 'DIS', 'FEA', 'HAP', 'NEU', 'SAD')
#: The crowd votes' letters in ``summaryTable.csv``, in the same order.
CREMA_D_VOTES = ('A', 'D', 'F', 'H', 'N', 'S')
#: The 5 subject-independent folds of HiCMAE: blocks of 18 actors in id
#: order, the last one 19.
CREMA_D_FOLDS = tuple(
    tuple(range(start, stop))
    for start, stop in ((1001, 1019), (1019, 1037), (1037, 1055), (1055, 1073),
                        (1073, 1092)))
#: Clips the dataset's README lists as defective (too short / no audio /
#: no duration / one minute long); HiCMAE drops them too.
CREMA_D_BROKEN = ('1076_MTI_NEU_XX', '1076_MTI_SAD_XX', '1064_TIE_SAD_XX',
                  '1064_IEO_DIS_MD')
CREMA_D_NAME = re.compile(r'^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$')
_VOTE_COLUMNS = dict(
    voice='VoiceVote', face='FaceVote', multimodal='MultiModalVote')


def parse_crema_d_name(stem: str) -> dict:
    """Parse ``ActorID_Sentence_Emotion_Level`` (e.g. ``1001_DFA_ANG_XX``).

    Args:
        stem (str): File name without extension.

    Returns:
        dict: ``actor`` (int), ``sentence``, ``emotion`` (code), ``level``
        and ``label`` (index into :data:`CREMA_D_CODES`).
    """
    match = CREMA_D_NAME.match(stem)
    if match is None:
        raise BadSampleError(
            stem, 'name does not follow ActorID_Sentence_Emotion_Level')
    actor, sentence, emotion, level = match.groups()
    if emotion not in CREMA_D_CODES:
        raise BadSampleError(stem, f'unknown label code {emotion!r}')
    return dict(
        actor=int(actor),
        sentence=sentence,
        emotion=emotion,
        level=level,
        label=CREMA_D_CODES.index(emotion))


def read_crowd_labels(summary_table: str, modality: str) -> Dict[str, str]:
    """Majority votes of the raters from CREMA-D's ``summaryTable.csv``.

    Args:
        summary_table (str): Path of ``processedResults/summaryTable.csv``.
        modality (str): ``'voice'``, ``'face'`` or ``'multimodal'``.

    Returns:
        dict: Clip name -> vote letter(s); ties read ``'A:D'``.
    """
    column = _VOTE_COLUMNS[modality]
    with open(summary_table, newline='') as f:
        return {row['FileName']: row[column] for row in csv.DictReader(f)}


@DATASETS.register_module()
class CremaDDataset(AVEmotionDataset):
    """CREMA-D, read straight from its released folders.

    Cao et al., "CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset",
    IEEE TAC 2014 (ODbL). 7,442 clips of 91 actors (1001-1091), 6 classes in
    the order of :data:`CREMA_D_CODES`: anger, disgust, fear, happy,
    neutral, sad.

    Without ``ann_file`` it scans ``data_root/VideoFlash/*.flv`` and pairs
    each clip with ``data_root/AudioWAV/<name>.wav`` (``audio='wav'``) or
    uses the FLV's own track (``audio='video'``); with ``ann_file`` it reads
    a CSV as :class:`AVEmotionDataset` does (``tools/data/cremad`` writes
    one after verifying every file). Subjects are the actor ids; the
    default folds are HiCMAE's 5 blocks (:data:`CREMA_D_FOLDS`).

    Labels: ``label_source='acted'`` takes the emotion the actor was asked
    to show (in the name); ``'voice'``, ``'face'`` or ``'multimodal'`` take
    the raters' majority vote for that presentation from
    ``summaryTable.csv`` (VAVL's "perceived" labels). Clips whose vote is a
    tie are left out, counted and logged.

    Args:
        data_root (str): The CREMA-D folder (a git-lfs clone or mirror).
        pipeline (list): Processing pipeline.
        ann_file (str): Optional annotation CSV. Defaults to ``''`` (scan).
        video_dir (str): Video folder. Defaults to ``'VideoFlash'``.
        video_ext (str): Video extension. Defaults to ``'.flv'``.
        audio (str): ``'wav'`` (``audio_dir``) or ``'video'``.
        audio_dir (str): Wav folder. Defaults to ``'AudioWAV'``.
        label_source (str): ``'acted'``, ``'voice'``, ``'face'`` or
            ``'multimodal'``. Defaults to ``'acted'``.
        summary_table (str, optional): The votes file; default
            ``processedResults/summaryTable.csv`` (or ``summaryTable.csv``)
            under ``data_root``.
        exclude_broken (bool): Leave out :data:`CREMA_D_BROKEN`.
            Defaults to True.
        exclude_clips (sequence of str): More clip names to leave out, e.g.
            ``['1040_ITH_SAD_XX']``, which HiCMAE's fold lists also lack
            (their 5 folds hold 7,437 clips); with it the folds equal
            HiCMAE's exactly.
        folds (sequence): Test actors per fold. Defaults to HiCMAE's
            (:attr:`DEFAULT_FOLDS`).
        **kwargs: Other arguments of :class:`AVEmotionDataset` (``fold``,
            ``split``, ``val_subjects``, ``on_bad_sample``, ...).
    """

    METAINFO = dict(
        classes=('anger', 'disgust', 'fear', 'happy', 'neutral', 'sad'),
        codes=CREMA_D_CODES)
    DEFAULT_FOLDS = CREMA_D_FOLDS

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]],
                 ann_file: str = '',
                 video_dir: str = 'VideoFlash',
                 video_ext: str = '.flv',
                 audio: str = 'wav',
                 audio_dir: str = 'AudioWAV',
                 label_source: str = 'acted',
                 summary_table: Optional[str] = None,
                 exclude_broken: bool = True,
                 exclude_clips: Sequence[str] = (),
                 folds: Sequence[Sequence[int]] = DEFAULT_FOLDS,
                 **kwargs) -> None:
        assert audio in ('wav', 'video'), audio
        assert label_source in ('acted', *_VOTE_COLUMNS), label_source
        self.video_dir = video_dir
        self.video_ext = video_ext
        self.audio = audio
        self.audio_dir = audio_dir
        self.label_source = label_source
        self.summary_table = summary_table
        self.excluded = set(exclude_clips) | set(
            CREMA_D_BROKEN if exclude_broken else ())
        super().__init__(
            ann_file=ann_file,
            pipeline=pipeline,
            data_root=data_root,
            data_prefix=kwargs.pop('data_prefix', None)
            or dict(video=video_dir, audio=audio_dir),
            folds=folds,
            **kwargs)

    def _crowd_labels(self) -> Dict[str, str]:
        table = self.summary_table
        if table is None:
            candidates = [
                osp.join(self.data_root, 'processedResults',
                         'summaryTable.csv'),
                osp.join(self.data_root, 'summaryTable.csv')
            ]
            table = next((c for c in candidates if osp.isfile(c)), None)
            if table is None:
                raise FileNotFoundError(
                    f'label_source={self.label_source!r} needs CREMA-D\'s '
                    f'summaryTable.csv; looked for {candidates}')
        return read_crowd_labels(table, self.label_source)

    def _entry(self, stem: str, video: str) -> dict:
        name = parse_crema_d_name(stem)
        info = dict(
            filename=video,
            label=name['label'],
            subject=name['actor'],
            name=stem)
        if self.audio == 'wav':
            info['audio_path'] = osp.join(self.data_prefix['audio'],
                                          stem + '.wav')
        return info

    def scan(self) -> List[Union[dict, BadSampleError]]:
        """List the clips of the folder (or of ``ann_file``).

        Returns:
            list: Info dicts, or :class:`BadSampleError` for names that do
            not parse.
        """
        if self.ann_file:
            entries = super().scan()
        else:
            folder = self.data_prefix['video']
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'CREMA-D video folder not found: {folder}')
            entries = []
            for file in sorted(os.listdir(folder)):
                stem, ext = osp.splitext(file)
                if ext != self.video_ext:
                    continue
                try:
                    entries.append(self._entry(stem, osp.join(folder, file)))
                except BadSampleError as e:
                    entries.append(
                        BadSampleError(osp.join(folder, file), e.problem))
        return self._relabel(self._drop_excluded(entries))

    def _drop_excluded(self, entries: list) -> list:
        kept = []
        for entry in entries:
            if isinstance(entry, BadSampleError) or \
                    self._stem(entry) not in self.excluded:
                kept.append(entry)
            else:
                why = 'a known broken CREMA-D clip (exclude_broken)' \
                    if self._stem(entry) in CREMA_D_BROKEN else \
                    'listed in exclude_clips'
                self.left_out.append((entry['filename'], why))
        if len(kept) < len(entries):
            print_log(
                f'CremaDDataset: left out {len(entries) - len(kept)} '
                f'excluded clips ({sorted(self.excluded)})',
                logger='current',
                level=logging.INFO)
        return kept

    @staticmethod
    def _stem(info: dict) -> str:
        return info.get('name') or osp.splitext(
            osp.basename(info['filename']))[0]

    def _relabel(self, entries: list) -> list:
        if self.label_source == 'acted':
            return entries
        votes = self._crowd_labels()
        kept, ties, unrated = [], 0, 0
        for entry in entries:
            if isinstance(entry, BadSampleError):
                kept.append(entry)
                continue
            vote = votes.get(self._stem(entry))
            if vote is None:
                unrated += 1
            elif vote not in CREMA_D_VOTES:
                ties += 1
            else:
                entry['label'] = CREMA_D_VOTES.index(vote)
                kept.append(entry)
        if ties or unrated:
            self.skipped['no majority vote'] += ties
            self.skipped['not in summaryTable.csv'] += unrated
            print_log(
                f'CremaDDataset: label_source={self.label_source!r} left out '
                f'{ties} clips whose vote is a tie and {unrated} without a '
                'vote',
                logger='current',
                level=logging.WARNING)
        return kept
