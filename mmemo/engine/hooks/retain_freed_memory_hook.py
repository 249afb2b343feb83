# Copyright (c) mmemo contributors. All rights reserved.
from mmengine.hooks import Hook
from torch import nn

from mmemo.registry import HOOKS
from mmemo.utils.malloc import retain_freed_memory


@HOOKS.register_module()
class RetainFreedMemoryHook(Hook):
    """Keep freed memory in the process for the next step when the model
    runs on the CPU (:func:`~mmemo.utils.malloc.retain_freed_memory`):
    large activations are then not mapped and zero-filled by the kernel
    again at every step. Numbers are unchanged; only where the memory comes
    from. A model on a GPU keeps its activations there, so nothing is
    changed for it.

    Applied before the run, so the dataloader workers forked later inherit
    it. A no-op (logged) where the C library is not glibc.

    Args:
        enable (bool): Whether to apply it. Off in mmemo's default runtime:
            the heap it keeps can be much larger than without it (peak RSS
            +54 % measured for two RAVDESS AVT-CA models stepping in turn,
            docs/en/user_guides/benchmark.md). Defaults to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, enable: bool = True) -> None:
        self.enable = enable

    def apply(self, model: nn.Module, logger=None) -> bool:
        """Apply it when enabled and ``model`` is on the CPU.

        Args:
            model (nn.Module): The model that will be trained or tested.
            logger (optional): Told when the C library is not glibc.

        Returns:
            bool: Whether the allocation settings changed.
        """
        if not self.enable:
            return False
        if {p.device.type for p in model.parameters()} - {'cpu'}:
            return False  # activations live on the accelerator
        if retain_freed_memory():
            return True
        if logger is not None:
            logger.info('RetainFreedMemoryHook: not glibc, allocation '
                        'settings unchanged')
        return False

    def before_run(self, runner) -> None:
        self.apply(runner.model, runner.logger)
