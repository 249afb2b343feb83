# Copyright (c) mmemo contributors. All rights reserved.
"""``tools/train.py --resume`` after ``kill -9`` mid-epoch continues exactly:
the final weights equal an uninterrupted run's, bit for bit (CPU,
``randomness.deterministic=True``), with shuffling, augmentations, modality
dropout and two loader worker processes; for AVT-CA on the synthetic set and
MAVEN (valence/arousal) on features of the synthetic VA set."""
import os
import os.path as osp
import signal

import numpy as np
import pytest
import torch
from helpers import REPO, TOY_CONFIG, python_tool, read_val_metrics
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmemo.datasets import SyntheticVADataset

SYNTH = osp.join(REPO, 'configs', 'avtca_synth.py')
TESTS = osp.dirname(osp.abspath(__file__))


def avtca_config(tmp_path, name: str, *extra: str) -> str:
    """``avtca_synth.py`` on the tiny synthetic set, 2 epochs."""
    root = str(tmp_path / 'synthetic')
    dataset = dict(data_root=root, size='tiny', folds=[[5]], val_subjects=[4])
    lines = [
        f'_base_ = [{SYNTH!r}]',
        'train_dataloader = dict(batch_size=8, num_workers=2, '
        f'persistent_workers=True, dataset={dataset!r})',
    ] + [
        f'{split}_dataloader = dict(num_workers=0, persistent_workers=False,'
        f' dataset={dataset!r})' for split in ('val', 'test')
    ] + [
        'max_epochs = 2',
        'train_cfg = dict(max_epochs=max_epochs)',
        'param_scheduler = [dict(type="CosineAnnealingLR", T_max=max_epochs,'
        ' eta_min=1e-5, by_epoch=True, convert_to_iter_based=True)]',
        'default_hooks = dict(iter_checkpoint=dict(interval=2), '
        'checkpoint=dict(save_best=None, max_keep_ckpts=-1))', *extra
    ]
    path = tmp_path / f'{name}.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def maven_config(tmp_path, name: str, *extra: str) -> str:
    """``maven_synth_va.py`` (valence/arousal) on random per-frame features
    of the tiny synthetic VA set, 2 epochs."""
    root = str(tmp_path / 'synthetic_va')
    features = tmp_path / 'features'
    if not features.exists():
        with DefaultScope.overwrite_default_scope('mmemo'):
            videos = [
                v for split in ('train', 'val') for v in SyntheticVADataset(
                    root, [], size='tiny', nproc=1, split=split).videos
            ]
        rng = np.random.default_rng(0)
        for stream in ('video', 'audio'):
            (features / stream).mkdir(parents=True)
            for v in videos:
                np.save(
                    features / stream / f"{v['video_id']}.npy",
                    rng.standard_normal(
                        (v['num_frames'], 128)).astype(np.float16))
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'maven_synth_va.py'))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        workers = 2 if split == 'train' else 0
        loader.update(
            batch_size=2, num_workers=workers, persistent_workers=workers > 0)
        loader.dataset.update(data_root=root, size='tiny')
        for t in loader.dataset.pipeline:
            if t.type == 'LoadSequenceFeatures':
                t.feature_dir = str(features / osp.basename(t.feature_dir))
    cfg.train_cfg.update(max_epochs=2, val_interval=1)
    cfg.param_scheduler = []
    cfg.default_hooks.update(
        iter_checkpoint=dict(type='IterCheckpointHook', interval=2),
        checkpoint=dict(
            type='CheckpointHook', interval=1, save_best=None,
            max_keep_ckpts=-1))
    path = str(tmp_path / f'{name}.py')
    cfg.dump(path)
    if extra:
        with open(path, 'a') as f:
            f.write('\n'.join(extra) + '\n')
    return path


CASES = dict(avtca_synth=avtca_config, maven_synth_va=maven_config)


def tensors(path: str) -> dict:
    checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    out = {f'state_dict.{k}': v for k, v in checkpoint['state_dict'].items()}
    for i, state in checkpoint['optimizer']['state'].items():
        out.update({f'optimizer.{i}.{k}': v for k, v in state.items()
                    if torch.is_tensor(v)})
    return out


@pytest.mark.parametrize('case', list(CASES))
def test_resume_after_sigkill_mid_epoch_is_exact(case, tmp_path):
    make_config = CASES[case]
    plain = make_config(tmp_path, 'plain')
    full_dir = str(tmp_path / 'full')
    python_tool('train.py', plain, '--work-dir', full_dir, cwd=str(tmp_path))
    per_epoch = torch.load(
        osp.join(full_dir, 'epoch_1.pth'), weights_only=False)['meta']['iter']
    assert per_epoch >= 4
    # mid-epoch 2, one iteration after a checkpoint (saved every 2)
    kill_at = per_epoch + per_epoch // 2 + 1
    kill_at += 1 - kill_at % 2
    assert per_epoch + 1 < kill_at < 2 * per_epoch
    killed = make_config(
        tmp_path, 'killed',
        "custom_imports = dict(imports=['sigkill_hook'])",
        f'custom_hooks = [dict(type="SigkillAtIterHook", at_iter={kill_at})]')
    work_dir = str(tmp_path / 'resumed')
    proc = python_tool('train.py', killed, '--work-dir', work_dir,
                       cwd=str(tmp_path), check=False,
                       PYTHONPATH=REPO + os.pathsep + TESTS)
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-2000:]
    last = open(osp.join(work_dir, 'last_checkpoint')).read().strip()
    assert osp.basename(last) == f'iter_{kill_at - 1}.pth'
    log = python_tool('train.py', plain, '--work-dir', work_dir, '--resume',
                      cwd=str(tmp_path)).stdout
    assert f'resumed epoch: 1, iter: {kill_at - 1}' in log

    full = tensors(osp.join(full_dir, 'epoch_2.pth'))
    resumed = tensors(osp.join(work_dir, 'epoch_2.pth'))
    assert full.keys() == resumed.keys()
    differ = [k for k in full if not torch.equal(full[k], resumed[k])]
    assert differ == [], f'{len(differ)} of {len(full)} tensors differ'
    assert val_metrics(work_dir) == val_metrics(full_dir)


def val_metrics(work_dir: str) -> list:
    """Validation metrics per epoch (the last run in the work dir wins)."""
    by_step = {}
    for record in read_val_metrics(work_dir, key='step'):
        metrics = {k: v for k, v in record.items() if k.startswith(('emo/',
                                                                    'va/'))}
        if metrics:
            by_step[record['step']] = metrics
    return [by_step[step] for step in sorted(by_step)]


def test_two_runs_of_the_demo_config_are_identical(tmp_path):
    """``make demo``'s config, shortened: the same metrics and weights on
    every CPU run (seed 0, deterministic, seeded samples)."""
    config = avtca_config(tmp_path, 'demo')
    runs = [str(tmp_path / f'run{i}') for i in (1, 2)]
    for work_dir in runs:
        python_tool('train.py', config, '--work-dir', work_dir,
                    cwd=str(tmp_path))
    assert val_metrics(runs[0]) == val_metrics(runs[1])
    assert len(val_metrics(runs[0])) == 2
    first, second = (tensors(osp.join(r, 'epoch_2.pth')) for r in runs)
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_iteration_checkpoints_only_under_a_loop_that_resumes_them(
        tmp_path):
    """mmengine's EpochBasedTrainLoop would repeat a half-done epoch from
    its start: under it the iteration checkpoints are switched off."""
    from mmengine.runner import Runner

    from mmemo.engine.hooks import IterCheckpointHook
    for loop, interval in (('EpochBasedTrainLoop', 0),
                           ('ResumableEpochBasedTrainLoop', 7)):
        cfg = Config.fromfile(TOY_CONFIG)
        cfg.train_cfg.type = loop
        cfg.work_dir = str(tmp_path / loop)
        runner = Runner.from_cfg(cfg)
        hook = IterCheckpointHook(interval=7)
        hook.before_train(runner)
        assert hook.interval == interval
