# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, List, Union

from mmemo.registry import DATASETS
from .affwild2_va_dataset import AffWild2VADataset
from .synthetic import GeneratedOnFirstRead, generate_dimensional


@DATASETS.register_module()
class SyntheticVADataset(GeneratedOnFirstRead, AffWild2VADataset):
    """The built-in synthetic valence/arousal set, in the Aff-Wild2 layout.

    Valence(t) bends the drawn face's mouth and brows (visible only),
    arousal(t) drives the voice's syllable rate, loudness and pitch range
    (audible only), one ``v,a`` line per frame at 25 fps, runs of ``-5``
    where unannotated, and one video with two faces (``_left`` /
    ``_right`` annotations). Splits are by actor (``Train_Set`` /
    ``Validation_Set``).

    With ``generate=True`` (default) a missing set is written, when the
    dataset is first read (``full_init``), by
    :func:`mmemo.datasets.synthetic.generate_dimensional` (rank 0
    generates, the other ranks wait); an existing set made with the same
    ``size`` and ``seed`` is used as it is.

    Args:
        data_root (str): Folder of the set.
            Defaults to ``'data/synthetic_va'``.
        pipeline (list): Processing pipeline.
        size (str): ``'tiny'`` (6 videos of 10 s) or ``'default'`` (30
            videos of 10-20 s). Defaults to ``'default'``.
        seed (int): Generator seed. Defaults to 0.
        generate (bool): Write the set when it is missing. Defaults to True.
        audio (str): ``'video'`` (the mp4's AAC track) or ``'wav'``
            (``audio/<name>.wav``). Defaults to ``'video'``.
        nproc (int): Processes for generating. Defaults to 2.
        **kwargs: Other arguments of :class:`AffWild2VADataset` (``split``,
            ``seq_len``, ``sub_clip_stride``, ``test_mode``, ...).
    """

    GENERATOR = staticmethod(generate_dimensional)

    def __init__(self,
                 data_root: str = 'data/synthetic_va',
                 pipeline: List[Union[dict, Callable]] = [],
                 size: str = 'default',
                 seed: int = 0,
                 generate: bool = True,
                 audio: str = 'video',
                 nproc: int = 2,
                 **kwargs) -> None:
        assert audio in ('video', 'wav'), audio
        self.size = size
        self.seed = seed
        self.audio = audio
        self.generate = generate
        self.nproc = nproc
        self._generate_root = data_root
        kwargs.setdefault('video_dirs', ('videos', ))
        kwargs.setdefault('video_exts', ('.mp4', ))
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            audio_dir='audio' if audio == 'wav' else None,
            **kwargs)
