# Copyright (c) mmemo contributors. All rights reserved.
"""tools/gpu_check.sh: its --dry-run on the CPU runs every step of the GPU
check (generate the tiny synthetic set, one epoch through torchrun on
gloo, test the checkpoint, a P2 training step) and prints one table."""
import os.path as osp
import re
import sys

from helpers import REPO, run

SCRIPT = osp.join(REPO, 'tools', 'gpu_check.sh')


def table_rows(stdout: str) -> dict:
    """The table's rows after its header, by step name: (status, seconds,
    limit, result)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('step ') and 'result' in line)
    rows = {}
    for line in lines[start + 2:]:
        name, rest = line[:29].strip(), line[29:].split(None, 3)
        rows[name] = tuple(rest) if len(rest) == 4 else tuple(rest) + ('', )
    return rows


def test_dry_run_runs_every_step_and_prints_one_table(tmp_path):
    proc = run(['bash', SCRIPT, '--dry-run', '--work-dir',
                str(tmp_path)],
               timeout=400,
               PYTHON=sys.executable)
    assert 'mmemo GPU check (dry run on the CPU)' in proc.stdout
    rows = table_rows(proc.stdout)
    assert list(rows)[:8] == [
        'cuda', 'data', 'cache', 'train', 'P5 GPU busy', 'test', 'bench',
        'P2 train step avtca_synth'
    ], proc.stdout
    assert rows['cuda'][0] == 'skipped' and '--dry-run' in rows['cuda'][3]
    assert rows['data'][0] == 'ok'
    assert 'train 8, val 4, test 4' in rows['data'][3]
    # the default config trains from the clip cache, filled first
    assert rows['cache'][0] == 'ok', rows['cache']
    assert osp.isfile(tmp_path / 'clip_cache' / 'cache.json')
    status, seconds, limit, result = rows['train']
    assert 'avtca_synth_clipcache.py' in result
    assert status == 'ok' and int(seconds) <= int(limit)
    # torchrun on the CPU: mmemo.compat's gloo, no AmpOptimWrapper
    assert 'distributed: yes' in result and 'backend gloo' in result
    assert 'no AMP' in result and 'epoch_1.pth' in result
    assert osp.isfile(tmp_path / 'train' / 'epoch_1.pth')
    assert rows['P5 GPU busy'][0] == 'skipped'
    assert rows['test'][0] == 'ok'
    war = re.search(r'emo/war: ([0-9.]+)', rows['test'][3])
    assert war and 0 <= float(war.group(1)) <= 1
    assert rows['bench'][0] == 'ok' and '1 rows' in rows['bench'][3]
    p2 = rows['P2 train step avtca_synth'][3]
    assert re.search(r'[0-9.]+ ms/step \([0-9.]+ clips/s\), ratio [0-9.]+',
                     p2), p2
    status, seconds, limit, result = rows['total']
    assert status == 'ok' and int(seconds) <= int(limit) == 480
    # the logs of every step stay in the work dir
    for step in ('data', 'cache', 'train', 'test', 'bench'):
        assert osp.isfile(tmp_path / 'logs' / f'{step}.log')


def test_unknown_argument_is_refused(tmp_path):
    proc = run(['bash', SCRIPT, '--dryrun'], check=False)
    assert proc.returncode == 2
    assert "unknown argument '--dryrun'" in proc.stdout
