# Copyright (c) mmemo contributors. All rights reserved.
"""mmemo's registries sit beside mmaction's and resolve both scopes."""
import importlib
import os.path as osp

import mmengine.registry as mmengine_registry
import pytest
import torch
from helpers import REPO, TOY_CONFIG
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import Registry

import mmemo.registry as mmemo_registry
from mmemo.utils import register_all_modules

REGISTRIES = {
    name: value
    for name, value in vars(mmemo_registry).items()
    if isinstance(value, Registry) and not name.startswith('MMENGINE_')
}


def test_every_mmaction_registry_has_a_sibling():
    import mmaction.registry as mmaction_registry
    theirs = {
        name
        for name, value in vars(mmaction_registry).items()
        if isinstance(value, Registry) and value.parent is not None
    }
    # mmaction calls MMEngine's FUNCTIONS node `FUNCTION`
    theirs = {'FUNCTIONS' if n == 'FUNCTION' else n for n in theirs}
    assert theirs == set(REGISTRIES)


@pytest.mark.parametrize('name', sorted(REGISTRIES))
def test_registry_node(name):
    registry = REGISTRIES[name]
    assert registry.scope == 'mmemo'
    # a sibling of mmaction's: its parent is MMEngine's root node
    root = getattr(mmengine_registry, name)
    assert registry.parent is root
    assert root._children['mmemo'] is registry
    assert registry._locations
    for location in registry._locations:
        importlib.import_module(location)


def test_lookups_from_both_scopes():
    from mmaction.registry import MODELS as MMACTION_MODELS
    from mmengine.registry import MODELS as ROOT_MODELS

    from mmemo.registry import MODELS
    from mmemo.testing import TinyAVClassifier

    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmemo'
    # mmemo.X from mmemo, mmaction and the root
    assert MODELS.get('TinyAVClassifier') is TinyAVClassifier
    assert MMACTION_MODELS.get('mmemo.TinyAVClassifier') is TinyAVClassifier
    assert ROOT_MODELS.get('mmemo.TinyAVClassifier') is TinyAVClassifier
    # mmaction.X from mmemo's registry
    from mmaction.models import ResNet3dSlowOnly
    assert MODELS.get('mmaction.ResNet3dSlowOnly') is ResNet3dSlowOnly
    # plain mmaction names are not ours: they need the prefix or _scope_
    assert MODELS.get('ResNet3dSlowOnly') is None


def test_build_mmaction_parts_in_mmemo_scope():
    import mmemo.testing  # noqa: F401  (registers TinyAVClassifier)
    from mmemo.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmemo'):
        # a whole mmaction sub-tree: unprefixed names inside resolve there
        recognizer = MODELS.build(
            dict(
                type='Recognizer2D',
                _scope_='mmaction',
                backbone=dict(
                    type='ResNet', depth=18, pretrained=None, norm_eval=False),
                cls_head=dict(type='TSNHead', num_classes=3, in_channels=512),
                data_preprocessor=dict(
                    type='ActionDataPreprocessor', format_shape='NCHW')))
        scores, _ = recognizer.extract_feat(
            torch.zeros(2, 3, 3, 32, 32), stage='head')  # [N, segs, C, H, W]
        assert scores.shape == (2, 3)
        # prefixed parts inside an mmemo model
        model = MODELS.build(
            dict(
                type='TinyAVClassifier',
                video_channels=3,
                audio_features=8,
                num_classes=3,
                loss_cls=dict(type='mmaction.CrossEntropyLoss')))
        assert type(model.loss_cls).__module__.startswith('mmaction.')


def test_default_runtime_is_mmemo_scoped_and_inherits_mmaction():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_scope == 'mmemo'
    # hooks inherited from `mmaction::_base_/default_runtime.py`
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    assert cfg.default_hooks.checkpoint._scope_ == 'mmaction'
    assert cfg.visualizer.type == 'AVVisualizer'
    assert '_scope_' not in cfg.visualizer


def test_toy_config_builds_through_both_registries(tmp_path):
    from mmengine.runner import Runner
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert type(model).__name__ == 'TinyAVClassifier'
    assert type(model.data_preprocessor).__name__ == \
        'MultiModalDataPreprocessor'
    batch = next(iter(runner.build_dataloader(cfg.train_dataloader)))
    assert set(batch['inputs']) == {'video', 'audio'}
    assert batch['inputs']['video'][0].shape == (1, 3, 4, 16, 16)
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    losses = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(losses['loss_cls'])
