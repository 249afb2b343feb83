# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, List, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmemo.registry import DATASETS


@DATASETS.register_module()
class ToyAVDataset(BaseDataset):
    """Random audio-visual tensors with a learnable class signal.

    A tiny in-memory set for exercising the tools (train/test, resume,
    distributed runs, checkpoints) without media files. Sample ``i`` is drawn
    from a generator seeded with ``(seed, i)``, so every process and every
    run sees the same data. Each class adds its own per-channel offset to the
    video and its own per-frequency offset to the audio; ``signal`` scales
    these offsets against unit-variance noise. The offsets come from
    ``pattern_seed``, shared by the train, val and test splits, which differ
    in ``seed``.

    The video is ``[1, C, T, H, W]`` with values around 128 (one clip, as
    mmaction's ``FormatShape('NCTHW')`` yields) and the audio a ``[1, 1, T,
    F]`` spectrogram-like array (mmaction's ``NCTF``).

    Args:
        num_samples (int): Number of samples. Defaults to 64.
        num_classes (int): Number of classes. Defaults to 4.
        video_shape (Sequence[int]): ``(C, T, H, W)``. Defaults to
            ``(3, 4, 16, 16)``.
        audio_shape (Sequence[int]): ``(T, F)``. Defaults to ``(32, 16)``.
        signal (float): Strength of the class offsets. Defaults to 1.0.
        seed (int): Seed of the samples, independent of the run's seed.
            Defaults to 0.
        pattern_seed (int): Seed of the class offsets. Defaults to 0.
        pipeline (list): Processing pipeline. Defaults to ``[]``.
        test_mode (bool): As in :class:`mmengine.dataset.BaseDataset`.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 num_samples: int = 64,
                 num_classes: int = 4,
                 video_shape: Sequence[int] = (3, 4, 16, 16),
                 audio_shape: Sequence[int] = (32, 16),
                 signal: float = 1.0,
                 seed: int = 0,
                 pattern_seed: int = 0,
                 pipeline: List[Union[dict, Callable]] = [],
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.video_shape = tuple(video_shape)
        self.audio_shape = tuple(audio_shape)
        self.signal = signal
        self.seed = seed
        self.pattern_seed = pattern_seed
        metainfo = dict(
            classes=tuple(f'class_{i}' for i in range(num_classes)))
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Draw every sample's label.

        Returns:
            list[dict]: ``sample_idx`` and ``label`` of each sample.
        """
        labels = np.arange(self.num_samples) % self.num_classes
        np.random.default_rng(self.seed).shuffle(labels)
        return [
            dict(sample_idx=i, label=int(label))
            for i, label in enumerate(labels)
        ]

    def _class_offsets(self) -> tuple:
        rng = np.random.default_rng([self.pattern_seed, 2**31 - 1])
        video = rng.standard_normal((self.num_classes, self.video_shape[0]))
        audio = rng.standard_normal((self.num_classes, self.audio_shape[1]))
        return video, audio

    def get_data_info(self, idx: int) -> dict:
        """Get a sample's label and its generated video and audio arrays.

        Args:
            idx (int): Sample index.

        Returns:
            dict: ``label``, ``video`` (float32 ``[1, C, T, H, W]``) and
            ``audio`` (float32 ``[1, 1, T, F]``).
        """
        info = super().get_data_info(idx)
        label = info['label']
        rng = np.random.default_rng([self.seed, info['sample_idx']])
        video_offsets, audio_offsets = self._class_offsets()
        c = self.video_shape[0]
        video = rng.standard_normal(self.video_shape)
        video += self.signal * video_offsets[label].reshape(c, 1, 1, 1)
        audio = rng.standard_normal(self.audio_shape)
        audio += self.signal * audio_offsets[label].reshape(1, -1)
        info['video'] = (128 + 32 * video).clip(0, 255).astype(
            np.float32)[None]  # [1, C, T, H, W]
        info['audio'] = audio.astype(np.float32)[None, None]  # [1, 1, T, F]
        return info
