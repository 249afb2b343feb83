# Copyright (c) mmemo contributors. All rights reserved.
"""`mmemo.utils.config`: a split's dataset config through wrappers, the
fallback between splits, and its pipeline."""
import os.path as osp

import pytest
from helpers import REPO
from mmengine.config import Config

from mmemo.utils.config import (get_dataset_cfg, get_pipeline_cfg,
                                unwrap_dataset_cfg)

PIPELINE = [dict(type='PackAVInputs')]


def dataset(name: str, **extra) -> dict:
    return dict(
        type='AVEmotionDataset', split=name, pipeline=PIPELINE, **extra)


def test_unwrap_goes_through_wrappers_to_the_dataset_with_a_pipeline():
    inner = dataset('train')
    wrapped = dict(
        type='RepeatDataset',
        times=2,
        dataset=dict(type='ClassBalancedDataset', dataset=inner))
    assert unwrap_dataset_cfg(wrapped) is inner  # the object, not a copy
    assert unwrap_dataset_cfg(inner) is inner
    assert unwrap_dataset_cfg(None) is None
    # a dataset with a pipeline is not a wrapper, whatever else it holds
    own = dataset('test', dataset=dict(type='Other'))
    assert unwrap_dataset_cfg(own) is own
    # `dataset` that is not a config is an argument, not a wrapped dataset
    named = dict(type='Named', dataset='affwild2')
    assert unwrap_dataset_cfg(named) is named


def test_split_fallback_and_pipeline():
    train, val = dataset('train'), dataset('val')
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(type='RepeatDataset', times=3, dataset=train)),
            val_dataloader=dict(dataset=val),
            test_dataloader=None))
    # no test loader: test -> val -> train
    assert get_dataset_cfg(cfg)['split'] == 'val'
    assert get_dataset_cfg(cfg, 'train')['split'] == 'train'
    assert get_dataset_cfg(cfg, 'test', fallback=False) is None
    # the config's own object: an edit reaches the config
    get_dataset_cfg(cfg, 'train', fallback=False)['fold'] = 2
    assert cfg.train_dataloader.dataset.dataset.fold == 2
    assert get_pipeline_cfg(cfg) == PIPELINE
    assert get_pipeline_cfg(cfg, 'test', fallback=False) is None
    # only a training loader: every split falls back to it
    only_train = dict(train_dataloader=dict(dataset=train))
    assert get_dataset_cfg(only_train, 'val') is train
    assert get_dataset_cfg(dict()) is None
    assert get_pipeline_cfg(
        dict(val_dataloader=dict(dataset=dict(type='X')))) is None
    with pytest.raises(ValueError, match='split'):
        get_dataset_cfg(cfg, 'validation')


def test_a_repository_config():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avtca_ravdess.py'))
    test = get_dataset_cfg(cfg)
    assert test is cfg.test_dataloader.dataset
    assert get_pipeline_cfg(cfg) is test.pipeline
    assert get_dataset_cfg(cfg, 'train').split == 'train'
