# Copyright (c) mmemo contributors. All rights reserved.
import glob
import os
import os.path as osp
import re

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmemo.registry import HOOKS


@HOOKS.register_module()
class IterCheckpointHook(Hook):
    """Save the full training state every ``interval`` iterations, so that
    a run killed in a long epoch loses at most ``interval`` iterations.

    Writes ``iter_<n>.pth`` in the work dir (only the latest is kept) and
    points ``last_checkpoint`` at it, so ``tools/train.py --resume`` picks
    it up; :class:`~mmemo.engine.runner.ResumableEpochBasedTrainLoop`
    continues the epoch from there. It runs beside mmengine's epoch
    ``CheckpointHook`` (a second ``CheckpointHook`` would share its list of
    kept files in the message hub and delete the other's).

    Args:
        interval (int): Iterations between saves; 0 disables the hook.
            Defaults to 500.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 500) -> None:
        self.interval = interval

    def before_train(self, runner) -> None:
        """Switch off under a loop that cannot resume mid-epoch (mmengine's
        ``EpochBasedTrainLoop`` would repeat the epoch from its start)."""
        from mmengine.runner import EpochBasedTrainLoop

        from mmemo.engine.runner import ResumableEpochBasedTrainLoop
        loop = runner.train_loop
        if self.interval > 0 and isinstance(loop, EpochBasedTrainLoop) \
                and not isinstance(loop, ResumableEpochBasedTrainLoop):
            runner.logger.warning(
                f'IterCheckpointHook is off: {type(loop).__name__} cannot '
                'resume mid-epoch; use train_cfg.type='
                "'ResumableEpochBasedTrainLoop'")
            self.interval = 0

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.interval <= 0 or not self.every_n_train_iters(
                runner, self.interval):
            return
        step = runner.iter + 1
        name = f'iter_{step}.pth'
        runner.save_checkpoint(runner.work_dir, name, by_epoch=False)
        if not is_main_process():
            return
        path = osp.join(runner.work_dir, name)
        with open(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
            f.write(path)
        for old in glob.glob(osp.join(runner.work_dir, 'iter_*.pth')):
            match = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(old))
            if match and int(match.group(1)) < step:
                os.remove(old)
