# Copyright (c) mmemo contributors. All rights reserved.
import pytest
from helpers import TOY_CONFIG, python_tool

import mmemo  # noqa: F401  (compat shims first, as in every entry point)


@pytest.fixture(scope='session')
def toy_run(tmp_path_factory) -> str:
    """Work dir of one 4-epoch single-process run of ``configs/toy_av.py``."""
    work_dir = str(tmp_path_factory.mktemp('toy_run'))
    python_tool('train.py', TOY_CONFIG, '--work-dir', work_dir)
    return work_dir
