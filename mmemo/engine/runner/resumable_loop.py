# Copyright (c) mmemo contributors. All rights reserved.
from mmengine.runner import EpochBasedTrainLoop

from mmemo.registry import LOOPS


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that resumes mid-epoch.

    mmengine resumes an epoch-based run at the start of the epoch of its
    checkpoint, which is right for the checkpoints of finished epochs but
    repeats (and miscounts) the iterations of one saved by an
    iteration-interval ``CheckpointHook``. This loop starts such an epoch at
    the saved iteration: the sampler (a
    :class:`~mmemo.datasets.samplers.SeededSampler`) skips the samples
    already trained on, without loading them. With the per-sample and
    per-iteration seeds of :mod:`mmemo.utils.seeding` the resumed run is
    the uninterrupted one.

    Args:
        *args, **kwargs: As ``EpochBasedTrainLoop``.
    """

    def run_epoch(self) -> None:
        """Iterate one epoch, from the resumed iteration if there is one."""
        done = self._iter - self._epoch * len(self.dataloader)
        if done <= 0:
            return super().run_epoch()
        sampler = self.dataloader.sampler
        if not hasattr(sampler, 'set_start'):
            raise TypeError(
                f'resuming mid-epoch needs a sampler with set_start (mmemo\'s '
                f'SeededSampler), not {type(sampler).__name__}')
        self.runner.call_hook('before_train_epoch')
        sampler.set_start(done * self.dataloader.batch_size)
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
