# Copyright (c) mmemo contributors. All rights reserved.
"""Packaging: pins, the wheel's `.mim` folder, and `mim train/test mmemo`."""
import os
import os.path as osp
import re
import subprocess
import sys
import zipfile

from helpers import REPO, read_test_metrics, read_val_metrics, run

PINNED = {
    'torch': '2.9.1',
    'torchaudio': '2.9.1',
    'torchvision': '0.24.1',
    'mmengine': '0.10.7',
    'mmaction2': '1.2.0',
}


def requirement_lines(name: str) -> list:
    with open(osp.join(REPO, 'requirements', name)) as f:
        return f.read().splitlines()


def test_pins_carry_a_reason():
    lines = requirement_lines('runtime.txt')
    for i, line in enumerate(lines):
        if not line.startswith('#') and ('==' in line or '<' in line):
            assert lines[i - 1].startswith('#'), f'no reason for {line!r}'
    specs = {
        re.split('[=<>]', line)[0]: line
        for line in lines if line and not line.startswith('#')
    }
    for name, version in PINNED.items():
        assert specs[name] == f'{name}=={version}'
    assert specs['setuptools'] == 'setuptools<82'
    assert 'mmcv-lite==2.1.0' in requirement_lines('mminstall.txt')
    # mmcv(-lite) must not be an install requirement (they share `mmcv/`)
    assert not any(s.startswith('mmcv') for s in specs)


def test_installed_stack_matches_the_pins():
    from importlib.metadata import version
    for name, pinned in PINNED.items():
        assert version(name).split('+')[0] == pinned


def test_wheel_contents(wheel_install):
    wheel, _ = wheel_install
    names = zipfile.ZipFile(wheel).namelist()
    for name in ('mmemo/.mim/configs/toy_av.py',
                 'mmemo/.mim/configs/_base_/default_runtime.py',
                 'mmemo/.mim/tools/train.py', 'mmemo/.mim/tools/test.py',
                 'mmemo/.mim/tools/dist_train.sh',
                 'mmemo/.mim/model-index.yml',
                 'mmemo/.mim/configs/avtca/metafile.yml',
                 'mmemo/.mim/tools/deployment/publish_model.py',
                 'mmemo/compat.py'):
        assert name in names, name
    assert not any(n.startswith('tests/') for n in names)


def test_mim_train_and_test_from_wheel(wheel_install, tmp_path):
    _, target = wheel_install
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    work_dir = str(tmp_path / 'work')
    env = dict(PYTHONPATH=target, PATH=os.environ['PATH'])
    # `toy_av.py` is not a path here: mim finds it in mmemo/.mim/configs
    proc = run([
        mim, 'train', 'mmemo', 'toy_av.py', '--work-dir', work_dir,
        '--cfg-options', 'train_cfg.max_epochs=1'
    ],
               cwd=str(tmp_path),
               **env)
    train_script = osp.join(target, 'mmemo', '.mim', 'tools', 'train.py')
    assert f'Training command is {sys.executable} {train_script}' in \
        proc.stdout
    assert [m['step'] for m in read_val_metrics(work_dir)] == [1]

    proc = run([
        mim, 'test', 'mmemo', 'toy_av.py', '--checkpoint',
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test')
    ],
               cwd=str(tmp_path),
               **env)
    assert 0.0 <= read_test_metrics(str(tmp_path / 'test'))['acc/top1'] <= 1


def test_wheel_imports_without_the_checkout(wheel_install, tmp_path):
    _, target = wheel_install
    out = subprocess.run([
        sys.executable, '-c',
        'import mmemo, mmengine.utils as u; print(mmemo.__file__); '
        "print(u.get_installed_path('mmemo'))"
    ],
                         cwd=str(tmp_path),
                         env=dict(os.environ, PYTHONPATH=target),
                         capture_output=True,
                         text=True,
                         check=True).stdout.split()
    assert out[0].startswith(target) and out[1] == osp.join(target, 'mmemo')


def test_ci_runs_the_readme_test_command():
    with open(osp.join(REPO, 'README.md')) as f:
        readme = f.read()
    with open(osp.join(REPO, '.ci', 'run')) as f:
        ci = [line.strip() for line in f if not line.startswith('#')]
    command = re.search(r'^(make test)\s+#', readme, re.M).group(1)
    assert command in ci
