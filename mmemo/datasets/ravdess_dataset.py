# Copyright (c) mmemo contributors. All rights reserved.
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Sequence, Union

from mmemo.registry import DATASETS
from .av_emotion_dataset import AVEmotionDataset
from .errors import BadSampleError

RAVDESS_NAME = re.compile(
    r'^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$')
#: The 6 subject-independent folds (HiCMAE, MSAF): 4 consecutive actors.
RAVDESS_FOLDS = tuple(tuple(range(4 * k + 1, 4 * k + 5)) for k in range(6))
_VOCAL_CHANNELS = dict(speech=('01', ), song=('02', ), both=('01', '02'))
#: ``media`` option -> (modality code of the video file, audio source)
_MEDIA = {
    'av': ('01', 'video'),  # the audio-visual mp4 and its own track
    'av+wav': ('01', 'wav'),  # its frames + the audio-only wav (AVT-CA)
    'video+wav': ('02', 'wav'),  # the silent mp4 + the wav (HiCMAE)
}


def parse_ravdess_name(stem: str) -> dict:
    """Parse the 7 two-digit fields of a RAVDESS file name.

    ``modality-vocal_channel-emotion-intensity-statement-repetition-actor``,
    e.g. ``02-01-06-01-02-01-12``.

    Args:
        stem (str): File name without extension.

    Returns:
        dict: The fields as strings, plus ``actor`` (int) and ``label``
        (emotion code - 1).
    """
    match = RAVDESS_NAME.match(stem)
    if match is None:
        raise BadSampleError(
            stem, 'name does not follow the 7-field '
            'RAVDESS pattern (e.g. 01-01-06-01-02-01-12)')
    fields = dict(
        zip(('modality', 'vocal_channel', 'emotion', 'intensity', 'statement',
             'repetition', 'actor'), match.groups()))
    emotion = int(fields['emotion'])
    if not 1 <= emotion <= 8:
        raise BadSampleError(
            stem, f'unknown label code {fields["emotion"]!r}'
            ' (RAVDESS emotions are 01-08)')
    fields['label'] = emotion - 1
    fields['actor'] = int(fields['actor'])
    return fields


@DATASETS.register_module()
class RavdessDataset(AVEmotionDataset):
    """RAVDESS, read straight from its released ``Actor_XX`` folders.

    Livingstone & Russo, PLoS ONE 2018 (CC BY-NC-SA 4.0). 24 actors; speech
    clips by default (``vocal_channel='song'`` or ``'both'`` optional).
    8 classes, label = emotion code - 1: neutral, calm, happy, sad, angry,
    fearful, disgust, surprised.

    ``media`` chooses which released files make a sample:

    - ``'av'``: the audio-visual ``01-…mp4`` with its own AAC track;
    - ``'av+wav'``: the frames of ``01-…mp4`` and the matching audio-only
      ``03-…wav`` (the AVT-CA / Chumachenko recipe);
    - ``'video+wav'``: the silent ``02-…mp4`` and the matching ``03-…wav``
      (HiCMAE).

    The video zips and the audio zip all unpack into ``Actor_XX`` folders;
    give ``audio_root`` when the wavs live elsewhere. Subjects are the actor
    numbers; the default folds are the 6 blocks of 4 actors
    (:data:`RAVDESS_FOLDS`). The single split of Chumachenko et al. / AVT-CA
    is ``folds=[[1, 2, 3, 4]], fold=1, val_subjects=[5, 6, 7, 8]``.

    Args:
        data_root (str): The folder holding ``Actor_01`` ... ``Actor_24``.
        pipeline (list): Processing pipeline.
        ann_file (str): Optional annotation CSV. Defaults to ``''`` (scan).
        media (str): ``'av'``, ``'av+wav'`` or ``'video+wav'``.
            Defaults to ``'av'``.
        vocal_channel (str): ``'speech'``, ``'song'`` or ``'both'``.
            Defaults to ``'speech'``.
        audio_root (str, optional): Folder of the ``Actor_XX`` wav folders;
            defaults to ``data_root``.
        folds (sequence): Test actors per fold. Defaults to 6 × 4 actors
            (:attr:`DEFAULT_FOLDS`).
        **kwargs: Other arguments of :class:`AVEmotionDataset`.
    """

    METAINFO = dict(
        classes=('neutral', 'calm', 'happy', 'sad', 'angry', 'fearful',
                 'disgust', 'surprised'))
    DEFAULT_FOLDS = RAVDESS_FOLDS

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]],
                 ann_file: str = '',
                 media: str = 'av',
                 vocal_channel: str = 'speech',
                 audio_root: Optional[str] = None,
                 folds: Sequence[Sequence[int]] = DEFAULT_FOLDS,
                 **kwargs) -> None:
        assert media in _MEDIA, media
        assert vocal_channel in _VOCAL_CHANNELS, vocal_channel
        self.media = media
        self.vocal_channel = vocal_channel
        self.audio_root = audio_root
        super().__init__(
            ann_file=ann_file,
            pipeline=pipeline,
            data_root=data_root,
            data_prefix=kwargs.pop('data_prefix', None)
            or dict(video='', audio=audio_root or ''),
            folds=folds,
            **kwargs)

    def _entry(self, stem: str, video: str) -> Optional[dict]:
        fields = parse_ravdess_name(stem)
        video_code, audio_source = _MEDIA[self.media]
        if fields['modality'] != video_code or \
                fields['vocal_channel'] not in _VOCAL_CHANNELS[
                    self.vocal_channel]:
            return None
        info = dict(
            filename=video,
            label=fields['label'],
            subject=fields['actor'],
            name=stem)
        if audio_source == 'wav':
            info['audio_path'] = osp.join(self.data_prefix['audio'],
                                          f'Actor_{fields["actor"]:02d}',
                                          '03' + stem[2:] + '.wav')
        return info

    def scan(self) -> List[Union[dict, BadSampleError]]:
        """Walk ``data_root`` for RAVDESS videos (or read ``ann_file``).

        Returns:
            list: Info dicts, or :class:`BadSampleError` for ``.mp4`` names
            that do not parse.
        """
        if self.ann_file:
            return super().scan()
        root = self.data_prefix['video']
        if not osp.isdir(root):
            raise FileNotFoundError(f'RAVDESS folder not found: {root}')
        entries = []
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for file in sorted(files):
                stem, ext = osp.splitext(file)
                if ext != '.mp4':
                    continue
                path = osp.join(folder, file)
                try:
                    entry = self._entry(stem, path)
                except BadSampleError as e:
                    entry = BadSampleError(path, e.problem)
                if entry is not None:
                    entries.append(entry)
        return entries
