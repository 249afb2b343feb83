# Copyright (c) mmemo contributors. All rights reserved.
import glob
import shutil
import sys

import pytest
from helpers import REPO, TOY_CONFIG, python_tool, run

import mmemo  # noqa: F401  (compat shims first, as in every entry point)


@pytest.fixture(scope='session')
def toy_run(tmp_path_factory) -> str:
    """Work dir of one 4-epoch single-process run of ``configs/toy_av.py``."""
    work_dir = str(tmp_path_factory.mktemp('toy_run'))
    python_tool('train.py', TOY_CONFIG, '--work-dir', work_dir)
    return work_dir


@pytest.fixture(scope='session')
def wheel_install(tmp_path_factory):
    """mmemo's wheel, built from a copy of the checkout, installed in a
    target folder (the editable install of the test environment stays)."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    ignore = shutil.ignore_patterns('.git', '.venv', '.mim', '*.egg-info',
                                    '__pycache__', 'work_dirs', 'build',
                                    'dist', '.pytest_cache')
    shutil.copytree(REPO, src, ignore=ignore, symlinks=True)
    run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-w',
        str(tmp / 'dist'),
        str(src)
    ])
    wheel = glob.glob(str(tmp / 'dist' / 'mmemo-*.whl'))[0]
    target = tmp / 'site'
    run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '--target',
        str(target), wheel
    ])
    return wheel, str(target)
