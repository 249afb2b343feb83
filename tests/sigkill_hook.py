# Copyright (c) mmemo contributors. All rights reserved.
"""A hook that kills its own training process with SIGKILL (``kill -9``)
after a given iteration, for the exact-resume test (``custom_imports``)."""
import os
import signal

from mmengine.hooks import Hook

from mmemo.registry import HOOKS


@HOOKS.register_module()
class SigkillAtIterHook(Hook):
    """``kill -9`` this process after iteration ``at_iter`` (1-based), once
    every other hook of that iteration (the checkpoint) has run."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)
