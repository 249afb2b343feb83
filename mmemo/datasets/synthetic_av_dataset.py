# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, List, Optional, Sequence, Union

from mmemo.registry import DATASETS
from .av_emotion_dataset import AVEmotionDataset
from .synthetic import CLASSES, GeneratedOnFirstRead, generate_categorical


@DATASETS.register_module()
class SyntheticAVDataset(GeneratedOnFirstRead, AVEmotionDataset):
    """The built-in synthetic audio-visual emotion set (categorical).

    6 classes, ``label = 2·V + A``: the facial expression ``V`` (smile,
    neutral, frown) is only visible, the pitch contour ``A`` (rising,
    falling) only audible, so a model needs both modalities (video alone can
    reach 1/2, audio alone 1/3). Subjects are the synthetic actors; there
    is no standard protocol (:attr:`DEFAULT_FOLDS` is None), so
    ``tools/kfold.py`` derives folds from the actors.

    With ``generate=True`` (default) a missing set is written, when the
    dataset is first read (``full_init``), by
    :func:`mmemo.datasets.synthetic.generate_categorical` (rank 0 generates,
    the other ranks wait); an existing set made with the same ``size`` and
    ``seed`` is used as it is. The files are H.264 + AAC mp4 (the video's
    own track is the default audio) and 16 kHz wavs (``audio='wav'``).

    Args:
        data_root (str): Folder of the set. Defaults to ``'data/synthetic'``.
        pipeline (list): Processing pipeline.
        size (str): ``'tiny'`` (5 actors, 60 clips) or ``'default'``
            (10 actors, 600 clips). Defaults to ``'default'``.
        seed (int): Generator seed. Defaults to 0.
        generate (bool): Write the set when it is missing. Defaults to True.
        audio (str): ``'video'`` (the mp4's AAC track) or ``'wav'``.
            Defaults to ``'video'``.
        nproc (int): Processes for generating. Defaults to 2.
        **kwargs: Other arguments of :class:`AVEmotionDataset` (``folds``,
            ``fold``, ``split``, ``val_subjects``, ...).
    """

    GENERATOR = staticmethod(generate_categorical)
    METAINFO = dict(classes=CLASSES)

    def __init__(self,
                 data_root: str = 'data/synthetic',
                 pipeline: List[Union[dict, Callable]] = [],
                 size: str = 'default',
                 seed: int = 0,
                 generate: bool = True,
                 audio: str = 'video',
                 nproc: int = 2,
                 ann_file: str = 'annotations.csv',
                 folds: Optional[Sequence[Sequence[int]]] = None,
                 **kwargs) -> None:
        assert audio in ('video', 'wav'), audio
        self.size = size
        self.seed = seed
        self.audio = audio
        self.generate = generate
        self.nproc = nproc
        self._generate_root = data_root
        super().__init__(
            ann_file=ann_file,
            pipeline=pipeline,
            data_root=data_root,
            folds=folds,
            **kwargs)

    def scan(self) -> list:
        """Read ``annotations.csv``; drop the wav unless ``audio='wav'``."""
        entries = super().scan()
        if self.audio == 'video':
            for entry in entries:
                if isinstance(entry, dict):
                    entry.pop('audio_path', None)
        return entries
