# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch.multiprocessing as mp
from mmengine.hooks import Hook

from mmemo.registry import HOOKS


@HOOKS.register_module()
class TensorSharingStrategyHook(Hook):
    """Set how dataloader workers hand tensors to the main process
    (:func:`torch.multiprocessing.set_sharing_strategy`), before the run so
    that the workers forked later use it.

    torch's Linux default, ``'file_descriptor'``, sends every tensor's
    shared memory as a file descriptor over a socket; ``'file_system'``
    sends its name. When a sample is cheap to load (the clip cache:
    memory-mapped frames and features) that hand-over is most of a worker
    epoch, and ``'file_system'`` cuts it by about a third
    (docs/en/user_guides/clip_cache.md). Its cost, in torch's words: shared
    memory of a process killed hard can stay in ``/dev/shm`` until
    ``torch_shm_manager`` removes it.

    Args:
        strategy (str, optional): One of
            :func:`torch.multiprocessing.get_all_sharing_strategies`; None
            keeps torch's default. Defaults to None.
    """

    priority = 'VERY_HIGH'

    def __init__(self, strategy: Optional[str] = None) -> None:
        if strategy is not None and \
                strategy not in mp.get_all_sharing_strategies():
            raise ValueError(
                f'TensorSharingStrategyHook: strategy {strategy!r} is not '
                'one of this platform\'s '
                f'{sorted(mp.get_all_sharing_strategies())}')
        self.strategy = strategy

    def before_run(self, runner) -> None:
        if self.strategy is not None:
            mp.set_sharing_strategy(self.strategy)
