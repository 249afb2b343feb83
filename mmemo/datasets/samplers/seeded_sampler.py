# Copyright (c) mmemo contributors. All rights reserved.
import math
from typing import Iterator

import torch
from mmengine.dataset import DefaultSampler

from mmemo.registry import DATA_SAMPLERS
from mmemo.utils.seeding import seeded_indices


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` whose indices carry a per-sample seed,
    and which can start an epoch part-way (an exact mid-epoch resume).

    The order is ``DefaultSampler``'s (``seed + epoch``). Each index is a
    :class:`~mmemo.utils.seeding.SeededIndex` whose seed is derived from
    ``(seed, epoch, position in the epoch)``; mmemo's datasets seed
    ``random``, NumPy and torch with it before loading the sample, so a
    sample's augmentations do not depend on which worker loads it, on the
    number of workers or on what was loaded before (see
    :mod:`mmemo.utils.seeding`).

    Args:
        **kwargs: As ``DefaultSampler`` (``dataset``, ``shuffle``, ``seed``,
            ``round_up``).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._start = 0

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` indices of this rank in the next epoch
        only (the samples a resumed run has already trained on)."""
        self._start = int(start)

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if self.round_up:
            indices = (indices * math.ceil(self.total_size / len(indices))
                       )[:self.total_size]
        # seeds by global position: the same for any number of ranks
        indices = seeded_indices(indices, self.seed, self.epoch)
        indices = indices[self.rank:self.total_size:self.world_size]
        start, self._start = self._start, 0
        return iter(indices[start:])
