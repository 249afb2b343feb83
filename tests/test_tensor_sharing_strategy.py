# Copyright (c) mmemo contributors. All rights reserved.
"""TensorSharingStrategyHook: the clip-cache configs' dataloader workers
hand tensors over by file name ('file_system'), the others keep torch's
default."""
import glob
import os.path as osp
from unittest import mock

import pytest
import torch
import torch.multiprocessing as mp
from helpers import REPO
from mmengine.config import Config

from mmemo.registry import HOOKS


class WorkerStrategy(torch.utils.data.Dataset):
    """Each sample: the sharing strategy its worker sees, and a tensor."""

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return mp.get_sharing_strategy(), torch.full((64, 64), index)


@pytest.fixture
def restore_strategy():
    before = mp.get_sharing_strategy()
    yield
    mp.set_sharing_strategy(before)


def test_configs():
    for path in sorted(glob.glob(osp.join(REPO, 'configs', '*.py'))):
        hook = Config.fromfile(path).default_hooks.tensor_sharing
        expected = 'file_system' if path.endswith('_clipcache.py') else None
        assert hook.strategy == expected, path


def test_workers_forked_after_the_run_starts_use_it(restore_strategy):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'avtca_synth_clipcache.py'))
    hook = HOOKS.build(cfg.default_hooks.tensor_sharing)
    mp.set_sharing_strategy('file_descriptor')
    hook.before_run(mock.Mock())
    assert mp.get_sharing_strategy() == 'file_system'
    loader = torch.utils.data.DataLoader(
        WorkerStrategy(), batch_size=None, num_workers=1)
    for index, (strategy, tensor) in enumerate(loader):
        assert strategy == 'file_system'
        assert torch.equal(tensor, torch.full((64, 64), index))
    # None (the default runtime's) leaves torch's setting alone
    HOOKS.build(dict(type='TensorSharingStrategyHook')).before_run(None)
    assert mp.get_sharing_strategy() == 'file_system'


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="'shm'.*file_system"):
        HOOKS.build(dict(type='TensorSharingStrategyHook', strategy='shm'))
