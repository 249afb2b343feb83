# Copyright (c) mmemo contributors. All rights reserved.
from mmengine.hooks import Hook

from mmemo.registry import HOOKS
from mmemo.utils.seeding import derive_seed, seed_everything


@HOOKS.register_module()
class IterSeedHook(Hook):
    """Seed ``random``, NumPy and torch before every training iteration from
    ``(runner.seed, iteration)``.

    The main process draws during a step (modality dropout, dropout layers,
    random masks); seeding each step from its position makes those draws
    the same after ``--resume`` as in an uninterrupted run, whatever ran in
    between (a validation epoch, data loading in the main process). Sample
    loading is seeded per sample by
    :class:`~mmemo.datasets.samplers.SeededSampler`.
    """

    priority = 'HIGHEST'

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        seed_everything(derive_seed(runner.seed, runner.iter))
