# Copyright (c) mmemo contributors. All rights reserved.
"""flake8 over the package, tools, configs and tests (setup.cfg's rules)."""
import sys

from helpers import run


def test_flake8():
    proc = run([
        sys.executable, '-m', 'flake8', 'mmemo', 'tools', 'configs', 'tests',
        'setup.py'
    ],
               check=False)
    assert proc.returncode == 0, proc.stdout
