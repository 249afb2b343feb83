# Copyright (c) mmemo contributors. All rights reserved.
"""The configs of the real datasets build PyTorch's fused optimiser (the
whole update in one kernel); the synthetic and toy configs, whose documented
results were trained with the loop over the parameters, do not. Fused or
not, it is the same update up to float rounding."""
import copy
import glob
import os.path as osp

import pytest
import torch
from helpers import REPO
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
# trained for the documented results without it (and the toy run's)
UNFUSED = ('synth', 'toy_av')


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_real_dataset_configs_fuse_the_optimizer(path):
    optimizer = Config.fromfile(path).optim_wrapper.optimizer
    expected = not any(word in osp.basename(path) for word in UNFUSED)
    assert bool(optimizer.get('fused')) is expected, optimizer


def fused_and_plain(name: str) -> tuple:
    """A config's ``optim_wrapper``, and a copy without ``fused``."""
    optim_cfg = Config.fromfile(osp.join(REPO, 'configs', name)).optim_wrapper
    plain_cfg = copy.deepcopy(optim_cfg)
    plain_cfg.optimizer.pop('fused')
    return optim_cfg, plain_cfg


@pytest.mark.parametrize(
    'name', ['maven_affwild2.py', 'jmt_affwild2.py', 'avtca_ravdess.py'])
def test_the_fused_optimizer_is_the_same_update(name):
    """Adam with weight decay and gradient clipping (MAVEN), Nesterov SGD
    (JMT), SGD with dampening (AVT-CA), built by MMEngine from the config:
    five steps fused and not give the same weights up to rounding."""
    optim_cfg, plain_cfg = fused_and_plain(name)
    torch.manual_seed(0)
    fused_model = torch.nn.Sequential(
        torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    plain_model = copy.deepcopy(fused_model)
    initial = [t.detach().clone() for t in fused_model.parameters()]
    fused = build_optim_wrapper(fused_model, optim_cfg)
    plain = build_optim_wrapper(plain_model, plain_cfg)
    assert fused.optimizer.defaults['fused'] is True
    assert not plain.optimizer.defaults.get('fused')
    x, y = torch.randn(16, 32), torch.randn(16, 2)
    for _ in range(5):
        for model, wrapper in ((fused_model, fused), (plain_model, plain)):
            wrapper.update_params((model(x) - y).square().mean() * 10)
    for f, p, start in zip(fused_model.parameters(), plain_model.parameters(),
                           initial):
        torch.testing.assert_close(f, p, rtol=1e-5, atol=1e-7)
        assert not torch.equal(f, start)  # the steps moved every weight


def test_a_resumed_run_keeps_the_optimizer_it_was_saved_with():
    """PyTorch restores `fused` with the parameter groups: a checkpoint
    saved by the loop resumes with the loop (the same run, continued)."""
    optim_cfg, plain_cfg = fused_and_plain('maven_affwild2.py')
    model = torch.nn.Linear(4, 2)
    saved = build_optim_wrapper(model, plain_cfg)
    saved.update_params(model(torch.randn(3, 4)).square().mean())
    resumed = build_optim_wrapper(model, optim_cfg)
    assert resumed.optimizer.param_groups[0]['fused'] is True
    resumed.load_state_dict(saved.state_dict())
    assert not resumed.optimizer.param_groups[0]['fused']
