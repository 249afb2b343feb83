# Copyright (c) mmemo contributors. All rights reserved.
"""RetainFreedMemoryHook (the default runtime's): after it, a large block
freed and allocated again costs no new page faults (the kernel no longer
maps and zero-fills it at every step)."""
import argparse
import os.path as osp
import subprocess
import sys

import pytest
from helpers import REPO, TOY_CONFIG, tool_env

# Tensors allocated, written and freed 8 times; the page faults of the last
# 3 (the heap takes a few rounds to hold a free block large enough:
# torch's aligned allocations split the freed ones).
SCRIPT = r'''
import resource, sys
import torch
mode = sys.argv[1]
if mode.startswith('hook'):
    from unittest import mock
    from mmengine.config import Config
    from mmemo.registry import HOOKS
    cfg = Config.fromfile(sys.argv[2])
    if mode != 'hook-default':
        cfg.default_hooks.retain_freed_memory.enable = True
    hook = HOOKS.build(cfg.default_hooks.retain_freed_memory)
    model = torch.nn.Linear(2, 2, device='meta' if mode == 'hook-meta'
                            else 'cpu')
    hook.before_run(mock.Mock(model=model))
elif mode == 'function':
    from mmemo.utils.malloc import retain_freed_memory
    assert retain_freed_memory()
faults = []
for _ in range(8):
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    # 64 MiB of float64, above any mmap threshold, and a smaller tensor
    # (torch's CPU allocator; NumPy would ask for huge pages)
    block = torch.ones(8 << 20, dtype=torch.float64)
    other = torch.ones(3 << 20)
    del block, other
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
print(sum(faults[-3:]))
'''
PAGES = 3 * (76 << 20) // 4096  # 3 x 76 MiB in 4-KiB pages


def page_faults(*args) -> int:
    out = subprocess.run([sys.executable, '-c', SCRIPT, *args],
                         env=tool_env(),
                         capture_output=True,
                         text=True,
                         check=True).stdout
    return int(out.split()[-1])


@pytest.mark.parametrize('mode', ['function', 'hook'])
def test_freed_memory_is_reused_without_page_faults(mode):
    config = osp.join(REPO, 'configs', 'avtca_ravdess.py')
    # without it, every allocation faults its pages in again
    assert page_faults('plain') > PAGES // 2
    assert page_faults(mode, config) < PAGES // 20


@pytest.mark.parametrize('mode', ['hook-default', 'hook-meta'])
def test_nothing_changes_by_default_or_off_the_cpu(mode):
    # the default runtime leaves it off; with the model on another device
    # (here 'meta') it does nothing
    config = osp.join(REPO, 'configs', 'avtca_ravdess.py')
    assert page_faults(mode, config) > PAGES // 2


def test_every_runner_registers_it(tmp_path):
    """Every mmemo config's runner has the hook, off; the option that the
    docs give turns it on."""
    from mmengine.config import Config, DictAction
    from mmengine.runner import Runner

    from mmemo.engine.hooks import RetainFreedMemoryHook
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.work_dir = str(tmp_path)
    for options, enabled in (([], False), ([
            '--cfg-options', 'default_hooks.retain_freed_memory.enable=True'
    ], True)):
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(options).cfg_options or {})
        hooks = [
            h for h in Runner.from_cfg(cfg).hooks
            if isinstance(h, RetainFreedMemoryHook)
        ]
        assert len(hooks) == 1 and hooks[0].enable is enabled
