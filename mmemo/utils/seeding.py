# Copyright (c) mmemo contributors. All rights reserved.
"""Random streams that depend only on the run's seed and a position.

Exact resume (``tools/train.py --resume`` continuing bit for bit) needs every
random draw of a run to be reproducible from what a checkpoint records. mmemo
does not save the state of each generator; it re-seeds them from
``(seed, position)`` instead, so the state is a function of the position:

- each training sample: ``(seed, epoch, position in the epoch)``, in
  whichever process loads it (:class:`~mmemo.datasets.samplers.SeededSampler`
  passes the seed with the index);
- each training iteration in the main process (modality dropout, dropout
  layers): ``(seed, iteration)`` (:class:`~mmemo.engine.hooks.IterSeedHook`).
"""
import random
from typing import Sequence

import numpy as np
import torch


def derive_seed(*keys: int) -> int:
    """A 32-bit seed from integer keys (NumPy's ``SeedSequence`` hashing:
    nearby keys give unrelated seeds).

    Args:
        *keys (int): Non-negative integers, e.g. ``(seed, epoch, index)``.

    Returns:
        int: In ``[0, 2**32)``.
    """
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and
    every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class SeededIndex(int):
    """A dataset index that carries the seed its sample is drawn with.

    It is an ``int`` everywhere an index is expected and survives the
    DataLoader's index queue to the worker processes (pickled with its
    ``seed``).
    """

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.seed)


def seeded_indices(indices: Sequence[int], seed: int,
                   epoch: int) -> list:
    """``indices`` with the seed of each position of an epoch."""
    return [
        SeededIndex(index, derive_seed(seed, epoch, position))
        for position, index in enumerate(indices)
    ]
