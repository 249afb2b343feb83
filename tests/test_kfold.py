# Copyright (c) mmemo contributors. All rights reserved.
"""`tools/kfold.py`: per-fold training and testing on the tiny synthetic
set (3 subject folds, 2 epochs, mechanics not accuracy), the results table,
kill-and-resume, failures, and the protocol / validation choices."""
import glob
import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import REPO, run, tool_env

import mmemo  # noqa: F401  (compat shims first, as in every entry point)

KFOLD = osp.join(REPO, 'tools', 'kfold.py')
# the tiny set's 5 actors in 3 folds; 1 validation actor per fold
FOLDS = [[1, 2], [3], [4, 5]]
EXPECTED_VAL = {1: [5], 2: [5], 3: [3]}


def load_kfold():
    spec = importlib.util.spec_from_file_location('kfold_tool', KFOLD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_frames(pipeline: list) -> list:
    """The pipeline on 36x36 frames cropped to 32 (fast on a CPU)."""
    pipeline = [dict(t) for t in pipeline]
    for t in pipeline:
        if t['type'] == 'mmaction.Resize':
            t['scale'] = (36, 36)
        elif t['type'] == 'mmaction.RandomCrop':
            t['size'] = 32
        elif t['type'] == 'mmaction.CenterCrop':
            t['crop_size'] = 32
    return pipeline


@pytest.fixture(scope='module')
def synth_config(tmp_path_factory) -> str:
    """A 2-epoch child of configs/kfold_avtca_synth.py on the tiny set with
    small frames."""
    from mmengine.config import Config

    from mmemo.datasets.synthetic import generate_categorical
    tmp = tmp_path_factory.mktemp('kfold')
    root = str(tmp / 'synthetic')
    generate_categorical(root, size='tiny', seed=0, progress=False)
    base_file = osp.join(REPO, 'configs', 'kfold_avtca_synth.py')
    base = Config.fromfile(base_file)
    lines = [f'_base_ = [{base_file!r}]']
    for name in ('train', 'val', 'test'):
        dataset = dict(
            data_root=root,
            size='tiny',
            folds=FOLDS,
            val_subjects=1,
            nproc=1,
            pipeline=small_frames(base[f'{name}_dataloader'].dataset.pipeline))
        loader = dict(
            num_workers=0,
            persistent_workers=False,
            batch_size=6,
            dataset=dataset)
        lines.append(f'{name}_dataloader = {loader!r}')
    lines += [
        'train_cfg = dict(max_epochs=2)',
        'default_hooks = dict(logger=dict(interval=1))'
    ]
    path = tmp / 'avtca_synth_kfold_ci.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def kfold_cmd(config, work_dir, *args):
    return [sys.executable, KFOLD, config, '--work-dir', work_dir, *args]


def snapshot(folder: str) -> dict:
    """Path -> (size, mtime) of every file under ``folder``."""
    files = {}
    for path in glob.glob(osp.join(folder, '**', '*'), recursive=True):
        if osp.isfile(path):
            st = os.stat(path)
            files[path] = (st.st_size, st.st_mtime_ns)
    return files


def processes_mentioning(text: str) -> list:
    """Pids of live processes whose command line contains ``text``."""
    pids = []
    for cmdline in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(cmdline, 'rb') as f:
                if text.encode() in f.read():
                    pids.append(int(cmdline.split('/')[2]))
        except OSError:
            pass
    return [p for p in pids if p != os.getpid()]


def last_launch(log_file: str) -> str:
    """The part of a fold log written by the latest subprocess."""
    with open(log_file) as f:
        return f.read().split('===== kfold ')[-1]


def test_kfold_table_kill_and_resume(synth_config, tmp_path):
    work_dir = str(tmp_path / 'kfold')
    out_file = tmp_path / 'first_run.log'
    # 1. kill the runner while fold 2 trains (after its first checkpoint)
    with open(out_file, 'w') as out:
        proc = subprocess.Popen(
            kfold_cmd(synth_config, work_dir, '--folds', 'all'),
            cwd=str(tmp_path),
            env=tool_env(),
            stdout=out,
            stderr=subprocess.STDOUT)
        fold2 = osp.join(work_dir, 'fold_2')
        deadline = time.time() + 400
        while not osp.isfile(osp.join(fold2, 'last_checkpoint')):
            assert proc.poll() is None, out_file.read_text()[-5000:]
            assert time.time() < deadline, 'fold 2 never saved a checkpoint'
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 128 + signal.SIGTERM
    first = out_file.read_text()
    assert 'SIGTERM received' in first
    # the fold's training subprocess was stopped with the runner
    assert processes_mentioning(osp.join(work_dir, 'configs',
                                         'fold_2.py')) == []
    assert osp.isfile(osp.join(work_dir, 'fold_1', 'test_results.json'))
    assert not osp.exists(osp.join(fold2, 'train_done.json')), \
        'fold 2 finished training before the kill'
    assert not osp.exists(osp.join(fold2, 'test_results.json'))
    fold1_files = snapshot(osp.join(work_dir, 'fold_1'))

    # 2. the re-run skips fold 1, resumes fold 2 and runs fold 3
    second = run(
        kfold_cmd(synth_config, work_dir, '--folds', 'all'),
        cwd=str(tmp_path)).stdout
    assert 'fold 1: test results recorded' in second and 'skipped' in second
    assert 'fold 1: training' not in second
    assert 'fold 2: resuming training from' in second
    assert snapshot(osp.join(work_dir, 'fold_1')) == fold1_files
    resumed = last_launch(osp.join(fold2, 'train.log'))
    assert 'resumed epoch: 1' in resumed
    assert 'Epoch(train) [2]' in resumed and 'Epoch(train) [1]' not in resumed
    assert 'resumed' not in last_launch(osp.join(fold2, 'test.log'))
    with open(osp.join(fold2, 'train.log')) as f:
        assert f.read().count('===== kfold ') == 2

    # 3. the table: per-fold test metrics, mean ± sample std
    with open(osp.join(work_dir, 'kfold_results.json')) as f:
        results = json.load(f)
    assert results['metrics'] == ['emo/war', 'emo/uar', 'emo/macro_f1']
    assert 'ddof=1' in results['std']
    assert results['protocol']['folds'] == FOLDS
    assert [r['fold'] for r in results['folds']] == [1, 2, 3]
    table = open(osp.join(work_dir, 'kfold_results.md')).read()
    assert table in second  # printed as well
    rows = {}
    for line in table.splitlines():
        if line.startswith('| '):
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            rows[cells[0]] = cells
    for k, record in enumerate(results['folds'], start=1):
        fold_dir = osp.join(work_dir, f'fold_{k}')
        # the numbers are those tools/test.py wrote for the fold
        test_json = sorted(
            glob.glob(osp.join(fold_dir, 'test', '*', '*.json')))[-1]
        with open(test_json) as f:
            metrics = json.load(f)
        assert record['metrics'] == metrics
        assert record['checkpoint'].startswith('best_emo_war_epoch_')
        assert osp.isfile(osp.join(fold_dir, record['checkpoint']))
        # subject-independent: test = the fold, validation = 1 other actor
        assert record['test_subjects'] == FOLDS[k - 1]
        assert record['val_subjects'] == EXPECTED_VAL[k]
        assert not set(record['val_subjects']) & set(record['test_subjects'])
        assert not set(record['train_subjects']) & (
            set(record['val_subjects']) | set(record['test_subjects']))
        assert sorted(record['train_subjects'] + record['val_subjects'] +
                      record['test_subjects']) == [1, 2, 3, 4, 5]
        assert record['num_samples']['test'] == 12 * len(FOLDS[k - 1])
        assert [float(x) for x in rows[str(k)][4:7]
                ] == pytest.approx([metrics[m] for m in results['metrics']],
                                   abs=5e-5)
    for i, key in enumerate(results['metrics']):
        values = np.array([r['metrics'][key] for r in results['folds']])
        summary = results['summary'][key]
        assert summary['mean'] == pytest.approx(values.mean())
        assert summary['std'] == pytest.approx(values.std(ddof=1))
        assert summary['n'] == 3
        assert rows['mean ± std'][4 + i] == \
            f'{values.mean():.4f} ± {values.std(ddof=1):.4f}'

    # 4. a fold trained but not tested is only tested
    os.remove(osp.join(work_dir, 'fold_3', 'test_results.json'))
    checkpoints = snapshot(osp.join(work_dir, 'fold_3'))
    third = run(
        kfold_cmd(synth_config, work_dir, '--folds', '3', '--quiet'),
        cwd=str(tmp_path)).stdout
    assert 'fold 3: already trained, testing only' in third
    after = snapshot(osp.join(work_dir, 'fold_3'))
    for path, stat in checkpoints.items():
        if path.endswith('.pth'):
            assert after[path] == stat
    with open(osp.join(work_dir, 'kfold_results.json')) as f:
        only3 = json.load(f)
    assert [r['fold'] for r in only3['folds']] == [3]
    assert only3['summary']['emo/war']['std'] is None  # one fold


def test_failed_fold_names_fold_and_log(synth_config, tmp_path):
    work_dir = str(tmp_path / 'kfold')
    proc = run(
        kfold_cmd(synth_config, work_dir, '--folds', '2', '--quiet',
                  '--cfg-options', 'model.type=NoSuchRecognizer'),
        cwd=str(tmp_path),
        check=False)
    assert proc.returncode == 1
    log = osp.join(work_dir, 'fold_2', 'train.log')
    assert f'fold 2: training failed (exit code 1); see its log {log}' in \
        proc.stdout
    assert 'NoSuchRecognizer' in open(log).read()


def test_fold_selection_and_statistics():
    kfold = load_kfold()
    assert kfold.parse_fold_selection('all', 4) == [1, 2, 3, 4]
    assert kfold.parse_fold_selection('3,1,3', 5) == [1, 3]
    for bad in ('0', '6', 'x', ''):
        with pytest.raises(SystemExit):
            kfold.parse_fold_selection(bad, 5)
    values = [0.5, 0.75, 0.6]
    mean, std = kfold.mean_std(values)
    assert mean == pytest.approx(np.mean(values))
    assert std == pytest.approx(np.std(values, ddof=1))
    # how each fold's processes are launched
    args = kfold.parse_args(['c.py', '--launcher', 'pytorch', '--gpus', '2'])
    cmd = kfold.Runner(args).command('train.py', 3, 'fold_3.py')
    assert cmd[1].endswith('dist_launch.sh') and cmd[2] == '2'
    assert cmd[3].endswith('train.py') and cmd[4:] == ['fold_3.py']
    args = kfold.parse_args(
        ['configs/x.py', '--launcher', 'slurm', '--partition', 'gpu'])
    cmd = kfold.Runner(args).command('test.py', 3, 'fold_3.py', 'ckpt.pth')
    assert cmd[1].endswith('slurm_launch.sh')
    assert cmd[2:4] == ['gpu', 'x_fold3'
                        ] and cmd[5:] == ['fold_3.py', 'ckpt.pth']
    # valence/arousal results: the CCC columns
    record = dict(
        fold=1,
        test_subjects=[1],
        val_subjects=[2],
        checkpoint='best.pth',
        metrics={
            'va/ccc_valence': 0.4,
            'va/ccc_arousal': 0.2,
            'va/ccc_mean': 0.3,
            'va/pcc_mean': 0.5
        })
    columns = kfold.metric_columns([record])
    assert columns == [('va/ccc_valence', 'CCC valence'),
                       ('va/ccc_arousal', 'CCC arousal'),
                       ('va/ccc_mean', 'CCC mean')]
    table, summary = kfold.summarize([record, dict(record, fold=2)], columns,
                                     dict(
                                         config='c',
                                         protocol='p',
                                         validation='v'))
    assert '| CCC valence | CCC arousal | CCC mean |' in table
    assert '0.3000 ± 0.0000' in table and summary['va/ccc_mean']['n'] == 2


def test_protocols_and_validation_subjects():
    """Configs with one fold or none use the dataset's standard protocol;
    fixed validation subjects that a test fold holds become a count."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    kfold = load_kfold()
    init_default_scope('mmemo')

    ravdess = Config.fromfile(osp.join(REPO, 'configs', 'avtca_ravdess.py'))
    protocol = kfold.resolve_protocol(ravdess)
    assert protocol['folds'] == [
        list(range(4 * k + 1, 4 * k + 5)) for k in range(6)
    ]
    assert 'RavdessDataset' in protocol['source']
    val = kfold.resolve_validation(ravdess, protocol['folds'], [1, 2], None)
    assert (val['mode'], val['value']) == ('default count', 4)
    cfg = kfold.fold_config(ravdess, protocol['folds'], 2, val)
    for name in ('train', 'val', 'test'):
        ds = kfold.loader_dataset(cfg, name)
        assert (ds.fold, ds.val_subjects) == (2, 4)
    assert cfg.default_hooks.checkpoint.save_best == 'emo/war'

    cremad = Config.fromfile(osp.join(REPO, 'configs', 'avtca_cremad.py'))
    protocol = kfold.resolve_protocol(cremad)
    assert [f[0] for f in protocol['folds']] == [1001, 1019, 1037, 1055, 1073]
    assert len(protocol['folds'][-1]) == 19
    val = kfold.resolve_validation(cremad, protocol['folds'], [1], None)
    assert (val['mode'], val['value']) == ('config count', 4)

    # no validation loop: the last checkpoint, unless --val-subjects adds one
    six = Config.fromfile(osp.join(REPO, 'configs', 'avtca_ravdess_6fold.py'))
    folds = kfold.resolve_protocol(six)['folds']
    assert kfold.resolve_validation(six, folds, [1], None)['mode'] == 'none'
    val = kfold.resolve_validation(six, folds, [1], 2)
    cfg = kfold.fold_config(six, folds, 3, val)
    assert kfold.has_val_loop(cfg)
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.train_dataloader.dataset.val_subjects == 2
    assert cfg.default_hooks.checkpoint.save_best == 'emo/war'

    # no subject folds at all: a clear refusal
    va = Config.fromfile(osp.join(REPO, 'configs', 'jca_synth_va.py'))
    with pytest.raises(SystemExit, match='no subject folds'):
        kfold.resolve_protocol(va)


def test_synthetic_protocol_is_derived(synth_config):
    """avtca_synth.py's single fold of 2 actors: blocks of 2 actors."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    kfold = load_kfold()
    init_default_scope('mmemo')
    cfg = Config.fromfile(synth_config)
    for name in ('train', 'val', 'test'):
        kfold.loader_dataset(cfg, name)['folds'] = [[4, 5]]
    protocol = kfold.resolve_protocol(cfg)
    assert protocol['folds'] == [[1, 2], [3, 4, 5]]
    assert 'derived' in protocol['source']
