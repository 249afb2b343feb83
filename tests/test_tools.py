# Copyright (c) mmemo contributors. All rights reserved.
"""tools/: train, test, resume, torchrun and slurm launches, misc scripts."""
import glob
import importlib.util
import os
import os.path as osp
import pickle
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from helpers import (REPO, TOY_CONFIG, python_tool, read_test_metrics,
                     read_val_metrics, run)
from mmengine.config import Config

from mmemo.compat import safe_torch_load


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(
        f'mmemo_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(tool, argv, monkeypatch):
    monkeypatch.setattr(sys, 'argv', [f'{tool.__name__}.py', *argv])
    return tool.parse_args()


def final_weights(work_dir: str, epoch: int = 4) -> dict:
    ckpt = safe_torch_load(osp.join(work_dir, f'epoch_{epoch}.pth'))
    return ckpt['state_dict']


# --------------------------------------------------------- argument merging
def test_train_merge_args(monkeypatch):
    train = load_tool('train')
    args = parse(train, [
        TOY_CONFIG, '--amp', '--resume', '--seed', '7', '--no-validate',
        '--cfg-options', 'train_cfg.max_epochs=9'
    ], monkeypatch)
    cfg = train.merge_args(Config.fromfile(TOY_CONFIG), args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.resume is True and cfg.load_from is None  # auto resume
    assert cfg.randomness.seed == 7  # the command line wins
    assert cfg.val_cfg is None and cfg.val_dataloader is None
    assert cfg.train_cfg.max_epochs == 9
    assert cfg.work_dir == osp.join('./work_dirs', 'toy_av')
    assert cfg.launcher == 'none'

    args = parse(train, [TOY_CONFIG, '--resume', 'a/epoch_3.pth'], monkeypatch)
    cfg = train.merge_args(Config.fromfile(TOY_CONFIG), args)
    assert cfg.resume is True and cfg.load_from == 'a/epoch_3.pth'
    assert cfg.randomness.seed == 0  # the config's


def test_test_merge_args(monkeypatch):
    test = load_tool('test')
    args = parse(test, [
        TOY_CONFIG, 'ckpt.pth', '--dump', 'out.pkl', '--show-dir', 'vis',
        '--interval', '3'
    ], monkeypatch)
    cfg = test.merge_args(Config.fromfile(TOY_CONFIG), args)
    assert cfg.test_evaluator[-1] == dict(
        type='DumpResults', out_file_path='out.pkl')
    visualization = cfg.default_hooks.visualization
    assert visualization.enable and visualization.out_dir == 'vis'
    assert visualization.interval == 3


# ------------------------------------------------------- single process
def test_train_tool(toy_run):
    """4 epochs with validation: checkpoints, best checkpoint, learning."""
    for epoch in range(1, 5):
        assert osp.isfile(osp.join(toy_run, f'epoch_{epoch}.pth'))
    assert glob.glob(osp.join(toy_run, 'best_acc_top1_epoch_*.pth'))
    with open(osp.join(toy_run, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_4.pth')
    metrics = read_val_metrics(toy_run)
    assert [m['step'] for m in metrics] == [1, 2, 3, 4]
    # 4 balanced classes: chance is 0.25
    assert max(m['acc/top1'] for m in metrics) >= 0.7


def test_test_tool(toy_run, tmp_path):
    dump = str(tmp_path / 'results.pkl')
    show_dir = str(tmp_path / 'vis')
    work_dir = str(tmp_path / 'test')
    python_tool('test.py', TOY_CONFIG, osp.join(toy_run, 'epoch_4.pth'),
                '--work-dir', work_dir, '--dump', dump, '--show-dir', show_dir,
                '--interval', '8')
    metrics = read_test_metrics(work_dir)
    assert 0.5 <= metrics['acc/top1'] <= 1.0

    with open(dump, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 32  # the test split
    labels = np.array([int(r['gt_label']) for r in results])
    preds = np.array([int(r['pred_label']) for r in results])
    assert np.isclose((labels == preds).mean(), metrics['acc/top1'])
    assert all(np.isclose(float(r['pred_score'].sum()), 1.) for r in results)

    images = sorted(os.listdir(show_dir))
    assert images == ['0_0.png', '16_0.png', '24_0.png', '8_0.png']
    import mmcv
    image = mmcv.imread(osp.join(show_dir, '8_0.png'))
    assert image.shape[0] >= 112 and image.shape[1] == 4 * image.shape[0]


# ------------------------------------------------------------- torchrun
@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    """The toy run on 2 CPU processes, 4 samples each per step: the same
    total batch (and samples) per step as the single-process run."""
    work_dir = str(tmp_path_factory.mktemp('ddp_run'))
    proc = run([
        'bash',
        osp.join(REPO, 'tools',
                 'dist_train.sh'), TOY_CONFIG, '2', '--work-dir', work_dir,
        '--cfg-options', 'train_dataloader.batch_size=4'
    ])
    return work_dir, proc.stdout


def test_dist_train_matches_single_process(toy_run, ddp_run):
    work_dir, log = ddp_run
    assert 'Distributed training: True' in log
    assert 'torch.distributed.run' in log  # torchrun, not launch
    single = read_val_metrics(toy_run)
    multi = read_val_metrics(work_dir)
    assert [m['step'] for m in multi] == [1, 2, 3, 4]
    for a, b in zip(single, multi):
        assert a['acc/top1'] == pytest.approx(b['acc/top1'], abs=1e-6)
    single_w, multi_w = final_weights(toy_run), final_weights(work_dir)
    assert single_w.keys() == multi_w.keys()
    for key in single_w:
        torch.testing.assert_close(
            multi_w[key], single_w[key], atol=1e-5, rtol=1e-4)


def test_dist_test(toy_run, ddp_run, tmp_path):
    ckpt = osp.join(toy_run, 'epoch_4.pth')
    single_dir, multi_dir = str(tmp_path / 'single'), str(tmp_path / 'multi')
    python_tool('test.py', TOY_CONFIG, ckpt, '--work-dir', single_dir)
    run([
        'bash',
        osp.join(REPO, 'tools', 'dist_test.sh'), TOY_CONFIG, ckpt, '2',
        '--work-dir', multi_dir
    ])
    single, multi = read_test_metrics(single_dir), read_test_metrics(multi_dir)
    assert single['acc/top1'] == pytest.approx(multi['acc/top1'], abs=1e-6)


def test_run_cli_destroys_the_process_group_on_success(tmp_path):
    """A tool run through run_cli leaves no process group to the
    interpreter's shutdown (gloo's threads can abort the process there);
    after an error the group is left alone (other ranks may wait in a
    collective)."""
    import torch.distributed as dist

    from mmemo.utils.cli import run_cli

    def start_group(fail: bool):
        dist.init_process_group(
            'gloo',
            init_method=f'file://{tmp_path}/store_{int(fail)}',
            rank=0,
            world_size=1)
        assert dist.is_initialized()
        if fail:
            raise ValueError('a tool error')
        return 'done'

    assert run_cli(lambda args: start_group(False), []) == 'done'
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match='a tool error'):
        run_cli(lambda args: start_group(True), [])
    assert dist.is_initialized()
    dist.destroy_process_group()


RANK_SCRIPT = '''\
import atexit, logging, sys
import torch
import torch.distributed as dist
from mmemo.utils.cli import run_cli

def main():
    if sys.argv[1] == 'group':
        dist.init_process_group('gloo', init_method=sys.argv[2], rank=0,
                                world_size=1)
        # a DDP model keeps the backend alive past destroy_process_group
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    atexit.register(lambda: print('atexit ran', flush=True))
    logging.basicConfig(filename=sys.argv[3], level=logging.INFO)
    logging.getLogger('rank').info('the last log line')
    print('the last line', end='')  # buffered: a pipe, no newline
    return int(sys.argv[4])

sys.exit(run_cli(main))
'''


@pytest.mark.parametrize('group', [True, False])
def test_a_distributed_rank_ends_without_the_cxx_teardown(tmp_path, group):
    """A tool's __main__ that ran a process group leaves through os._exit
    (no atexit handler, no C++ static destructor: gloo's abort at shutdown)
    after flushing its output and log; its result is the exit status. A run
    without a group ends normally."""
    script = tmp_path / 'rank.py'
    script.write_text(RANK_SCRIPT)
    log = tmp_path / 'rank.log'
    proc = subprocess.run([
        sys.executable,
        str(script), 'group' if group else 'none', f'file://{tmp_path}/store',
        str(log), '3'
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO,
                          timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert 'the last line' in proc.stdout
    assert ('atexit ran' in proc.stdout) is not group
    assert 'the last log line' in log.read_text()


# ---------------------------------------------------------------- slurm
FAKE_SRUN = '''\
#!{python}
"""Stand-in for srun: start --ntasks copies with slurm's variables."""
import os, subprocess, sys
args, ntasks = sys.argv[1:], 1
while args and args[0].startswith('-'):
    opt = args.pop(0)
    if opt == '-p':
        args.pop(0)
    elif opt.startswith('--ntasks='):
        ntasks = int(opt.split('=')[1])
    elif opt.startswith('--gres'):
        sys.exit('fake srun: no GPUs on this partition')
procs = [
    subprocess.Popen(args, env=dict(
        os.environ, SLURM_PROCID=str(i), SLURM_LOCALID=str(i),
        SLURM_NTASKS=str(ntasks), SLURM_NODELIST='localhost'))
    for i in range(ntasks)
]
codes = [p.wait() for p in procs]
print('fake srun exit codes', codes, flush=True)
sys.exit(max(codes))
'''

FAKE_SCONTROL = '''\
#!/bin/sh
echo 127.0.0.1
'''


def test_slurm_train_on_cpu(tmp_path, toy_run):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN.format(python=sys.executable)),
                       ('scontrol', FAKE_SCONTROL)):
        (bin_dir / name).write_text(textwrap.dedent(text))
        (bin_dir / name).chmod(stat.S_IRWXU)
    work_dir = str(tmp_path / 'work')
    path = os.pathsep.join(
        [str(bin_dir),
         osp.dirname(sys.executable), os.environ['PATH']])
    proc = run([
        'bash',
        osp.join(REPO, 'tools', 'slurm_train.sh'), 'cpu', 'toy', TOY_CONFIG,
        '--work-dir', work_dir, '--cfg-options',
        'train_dataloader.batch_size=4', 'train_cfg.max_epochs=1'
    ],
               PATH=path,
               GPUS=2,
               GPUS_PER_NODE=2,
               GRES='')
    assert 'fake srun exit codes [0, 0]' in proc.stdout
    assert 'Distributed launcher: slurm' in proc.stdout
    first_epoch = read_val_metrics(work_dir)
    assert first_epoch[0]['acc/top1'] == pytest.approx(
        read_val_metrics(toy_run)[0]['acc/top1'], abs=1e-6)


# ------------------------------------------------------------------ misc
def test_print_config():
    proc = python_tool('misc/print_config.py', TOY_CONFIG, '--cfg-options',
                       'train_cfg.max_epochs=11')
    assert "default_scope = 'mmemo'" in proc.stdout
    assert 'max_epochs=11' in proc.stdout
    assert "type='mmaction.MultiModalDataPreprocessor'" in proc.stdout


def test_collect_env():
    proc = python_tool('misc/collect_env.py')
    assert 'MMAction2: 1.2.0' in proc.stdout
    assert 'mmemo compat shims: drn_stub' in proc.stdout
    assert 'torchaudio: ' in proc.stdout
