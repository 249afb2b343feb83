# Copyright (c) mmemo contributors. All rights reserved.
"""`tools/train.py configs/avtca_*.py` on CI-sized data (release trees made
of real GRID clips, the tiny synthetic set), then `tools/test.py` on the
checkpoint."""
import glob
import os.path as osp
from typing import Optional, Sequence

import pytest
from helpers import (REPO, make_cremad_tree, make_ravdess_tree, python_tool,
                     read_test_metrics, read_val_metrics, train_then_test)

# CREMA-D: fold 1 tests actors 1001-1018; val_subjects=1 takes 1091
CREMA_D = [
    '1001_DFA_ANG_XX', '1002_IEO_HAP_HI', '1030_TIE_SAD_XX', '1040_ITH_FEA_XX',
    '1050_WSI_NEU_XX', '1091_DFA_DIS_XX'
]
# RAVDESS (AVT-CA split): test actors 1-4, validation 5-8, training 9-24
RAVDESS = [
    '01-03-01-01-01-01', '01-05-02-02-01-02', '01-08-01-01-02-06',
    '01-04-01-01-01-10', '01-02-02-02-02-17', '01-06-01-02-01-24'
]


def ci_config(tmp_path,
              base: str,
              loaders: Sequence[str] = ('train', 'val', 'test'),
              batch_size: Optional[int] = 2,
              **dataset) -> str:
    """Write a one-epoch child of ``configs/<base>`` whose ``loaders`` run
    in the main process (``batch_size`` None keeps the config's) and read
    ``dataset`` (e.g. ``data_root``)."""
    loader = dict(num_workers=0, persistent_workers=False)
    if batch_size is not None:
        loader['batch_size'] = batch_size
    lines = [f"_base_ = [{osp.join(REPO, 'configs', base)!r}]"]
    lines += [
        f'{name}_dataloader = {dict(loader, dataset=dataset)!r}'
        for name in loaders
    ]
    lines.append('train_cfg = dict(max_epochs=1)')
    path = tmp_path / base.replace('.py', '_ci.py')
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.mark.parametrize('dataset', ['cremad', 'ravdess'])
def test_train_and_test_on_release_trees(dataset, tmp_path):
    """The shipped configs with their defaults on release-like trees where,
    as in the real releases, 3 of the files have audio 0.6 s shorter than
    the video (one each of train, val and test): the length policy pads
    them, and the epoch logs say so."""
    root = str(tmp_path / dataset)
    if dataset == 'cremad':
        # test: 1001, 1002; train: 1030, 1040, 1050; val: 1091
        make_cremad_tree(root, CREMA_D, short_audio=(0, 2, 5))
        extra = dict(val_subjects=1)
    else:
        # test: actors 1, 2; val: 6; train: 10, 17, 24
        make_ravdess_tree(root, RAVDESS, short_audio=(0, 2, 3))
        extra = {}
    config = ci_config(
        tmp_path, f'avtca_{dataset}.py', data_root=root, **extra)
    log, work_dir, test_dir = train_then_test(config, tmp_path)
    for mode in ('Epoch(train) [1]', 'Epoch(val)'):
        assert f'{mode} media: audio padded with silence' in log, log[-3000:]
    val = read_val_metrics(work_dir, key='emo/war')
    assert [m['step'] for m in val] == [1]
    assert {'emo/war', 'emo/uar', 'emo/audio/war', 'emo/video/war'} <= \
        set(val[0])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert (tmp_path / 'data' / 'face_cache').is_dir()

    metrics = read_test_metrics(test_dir)
    assert 0 <= metrics['emo/war'] <= 1
    num_classes = 6 if dataset == 'cremad' else 8
    matrix = metrics['emo/confusion_matrix']
    assert len(matrix) == num_classes
    assert sum(map(sum, matrix)) == 2  # the two test clips
    # ... and drawn into the run's vis_data
    assert glob.glob(
        osp.join(test_dir, '*', 'vis_data', 'vis_image',
                 'confusion_matrix_*.png'))

    # the metrics table of the README's main job, from the same run
    table = python_tool(
        'analysis_tools/print_metrics.py', test_dir, cwd=str(tmp_path)).stdout
    rows = [
        line.split(' | ') for line in table.splitlines()
        if line.startswith('| ')
    ]
    assert rows[0] == ['| input', 'war', 'uar', 'macro_f1', 'weighted_f1 |']
    assert [r[0] for r in rows[2:5]] == ['| fusion', '| audio', '| video']
    assert rows[2][1] == f"{metrics['emo/war']:.4f}"
    assert rows[4][2] == f"{metrics['emo/video/uar']:.4f}"
    assert sum(r[0] == '| true \\ pred' for r in rows) == 1


def test_ravdess_six_fold_protocol(tmp_path):
    """Fold 3 of the 6-fold protocol tests actors 9-12 and trains on the
    other 20 without a validation set."""
    root = str(tmp_path / 'ravdess')
    make_ravdess_tree(root, RAVDESS)
    config = ci_config(
        tmp_path,
        'avtca_ravdess_6fold.py',
        loaders=('train', 'test'),
        data_root=root,
        fold=3)
    log, work_dir, test_dir = train_then_test(config, tmp_path)
    assert read_val_metrics(work_dir, key='emo/war') == []
    # 5 of the 6 fixture clips train (actor 10 is tested)
    assert 'Epoch(train) [1][3/3]' in log
    matrix = read_test_metrics(test_dir)['emo/confusion_matrix']
    assert sum(map(sum, matrix)) == 1  # actor 10's clip


def test_synthetic_config_runs_on_the_tiny_set(tmp_path):
    """`configs/avtca_synth.py` (the README's main job) on the CI-sized
    synthetic set: the set is generated on first use, one epoch trains,
    validates and tests (the best checkpoint) with per-modality scores."""
    root = str(tmp_path / 'synthetic')
    config = ci_config(
        tmp_path,
        'avtca_synth.py',
        batch_size=None,
        data_root=root,
        size='tiny',
        folds=[[5]],
        val_subjects=[4])
    _, work_dir, test_dir = train_then_test(
        config, tmp_path, checkpoint='best_emo_war_epoch_1.pth')
    assert osp.isfile(osp.join(root, 'meta.json'))  # generated on first use
    val = read_val_metrics(work_dir, key='emo/war')
    assert [m['step'] for m in val] == [1]
    assert osp.isfile(osp.join(work_dir, 'best_emo_war_epoch_1.pth'))
    metrics = read_test_metrics(test_dir)
    # actor 5 of the tiny set: 2 clips of each of the 6 classes
    assert sum(map(sum, metrics['emo/confusion_matrix'])) == 12
    assert {'emo/audio/war', 'emo/video/war'} <= set(metrics)
