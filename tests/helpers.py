# Copyright (c) mmemo contributors. All rights reserved.
"""Helpers for the tests: run mmemo's tools as subprocesses, read results.

Tests run on CPU, offline, with random-init models and generated data.
"""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import List, Optional

import pytest

import mmemo  # noqa: F401  (compat shims first, as in every entry point)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(REPO, 'configs', 'toy_av.py')


def tool_env(**extra) -> dict:
    """Environment for a tool subprocess: this venv first, quiet, offline."""
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = REPO + (
        os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHONUNBUFFERED'] = '1'
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd: List[str],
        cwd: Optional[str] = None,
        check: bool = True,
        timeout: int = 600,
        **env) -> subprocess.CompletedProcess:
    """Run a command; on an unexpected exit code fail with its output."""
    proc = subprocess.run(
        cmd,
        cwd=cwd or REPO,
        env=tool_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} exited with {proc.returncode}:\n'
                    f'{proc.stdout[-8000:]}')
    return proc


def python_tool(script: str, *args, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python tools/<script> ARGS``."""
    return run([sys.executable,
                osp.join(REPO, 'tools', script), *args], **kwargs)


def read_val_metrics(work_dir: str) -> List[dict]:
    """Per-epoch validation metrics of every run logged in ``work_dir``."""
    records = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'acc/top1' in record:
                    records.append(record)
    return records


def read_test_metrics(work_dir: str) -> dict:
    """Metrics of the latest ``tools/test.py`` run in ``work_dir``."""
    paths = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    assert paths, f'no test results in {work_dir}'
    with open(paths[-1]) as f:
        return json.load(f)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
