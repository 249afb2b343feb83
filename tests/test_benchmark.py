# Copyright (c) mmemo contributors. All rights reserved.
"""Smoke test of ``tools/benchmark.py all --quick``: every benchmark runs
and reports every field. Timings are never asserted (they depend on the
machine and its load)."""
import json
import os.path as osp
import re

import pytest
from helpers import python_tool

BENCHMARKS = ('P1 pipeline / FFmpeg decode (detector on every clip)',
              'P1 pipeline / FFmpeg decode (detections cached)',
              'P2 train step AVT-CA', 'P2 train step CFN-SR',
              'P2 train step JCA', 'P2 train step JMT', 'P2 train step MAVEN',
              'P3 inference latency, 3-s clip',
              'P4 epoch from cache vs decoding',
              'P6 clip-cache epoch, data loading, in process',
              'P6 clip-cache epoch, data loading, 2 workers',
              'P6 clip-cache epoch, training, 2 workers')
# the face-box agreement rows (no reference time, a share of frames)
AGREEMENT = ('P1 face boxes vs MTCNN every frame (GRID)',
             'P1 face boxes vs MTCNN every frame (synthetic)')
# benchmarks with a reference measured in the same run, and their goals
RATIOS = {
    'P1 pipeline / FFmpeg decode (detector on every clip)': '<= 1.25',
    'P1 pipeline / FFmpeg decode (detections cached)': '<= 1.25',
    'P3 inference latency, 3-s clip': '< 1 s',
    'P4 epoch from cache vs decoding': '>= 20x',
    'P6 clip-cache epoch, data loading, in process': '>= 10x',
    'P6 clip-cache epoch, data loading, 2 workers': '>= 10x',
    'P6 clip-cache epoch, training, 2 workers': '>= 10x',
}
NUMBER = r'[\d.e+-]+'


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('bench')
    out = str(tmp / 'report')
    log = python_tool(
        'benchmark.py',
        'all',
        '--quick',
        '--work-dir',
        str(tmp / 'work'),
        '--out',
        out,
        timeout=900).stdout
    with open(out + '.json') as f:
        report = json.load(f)
    with open(out + '.md') as f:
        markdown = f.read()
    return log, report, markdown


def test_every_ratio_line_is_printed(quick_run):
    log, _, markdown = quick_run
    table = log[log.rindex('mmemo benchmark'):]
    for name in BENCHMARKS + AGREEMENT:
        line = next((x for x in table.splitlines() if x.startswith(name)),
                    None)
        assert line is not None, f'{name} missing from\n{table}'
        assert re.search(NUMBER, line[len(name):])
        if name in RATIOS:
            # measured, reference, ratio, goal and verdict
            assert re.search(
                rf'{NUMBER} \S+\s+{NUMBER} \S+\s+{NUMBER}\s+'
                rf'{re.escape(RATIOS[name])}\s+(yes|NO)\s+{NUMBER}', line), \
                line
        elif name in AGREEMENT:
            assert re.search(
                rf'{NUMBER} frames IoU>=0.9\s+-\s+-\s+>= 0.95\s+(yes|NO)',
                line), line
        else:
            assert re.search(rf'ms/step \({NUMBER} clips/s\)', line), line
        assert f'| {name} |' in markdown
    # the per-stage breakdown of the pipeline
    assert re.search(r'ms per clip by stage: AVInit [\d.]+', table)


def test_json_has_every_field(quick_run):
    _, report, _ = quick_run
    assert report['quick'] is True and report['device'] == 'cpu'
    for key in ('date', 'cpu', 'cpu_count', 'threads', 'python'):
        assert key in report['machine']
    rows = {r['benchmark']: r for r in report['rows']}
    assert set(rows) == set(BENCHMARKS + AGREEMENT)
    for name in AGREEMENT:
        r = rows.pop(name)
        assert 0 <= r['measured'] <= 1 and isinstance(r['met'], bool)
        assert r['details']['scored'] > 0
    for name, r in rows.items():
        assert set(r) == {
            'benchmark', 'measured', 'unit', 'reference', 'ratio', 'goal',
            'met', 'peak_rss_mb', 'details'
        }
        assert r['measured'] > 0 and r['peak_rss_mb'] > 0
        assert r['details']['wall_s'] > 0
        if name in RATIOS:
            assert r['reference'] > 0 and r['ratio'] > 0
            assert r['goal'] == RATIOS[name]
            assert isinstance(r['met'], bool)
        else:
            assert r['details']['clips_per_s'] > 0
            assert r['details']['batch_size'] == 8
    # AVT-CA and CFN-SR in the RAVDESS / CREMA-D configs' channels-last
    # layout (--cfg-options), timed against the plain one
    for name in ('AVT-CA', 'CFN-SR', 'JCA'):
        details = rows['P2 train step ' + name]['details']
        assert details['channels_last'] is (name != 'JCA')
        assert ('channels_last=False' in details['reference_is']) is (
            name != 'JCA')
        # off in the default runtime, so off here as in training
        assert details['retain_freed_memory'] is False
    # every head with the real datasets' fused optimiser, against the loop
    for name in ('AVT-CA', 'CFN-SR', 'JCA', 'JMT', 'MAVEN'):
        details = rows['P2 train step ' + name]['details']
        assert details['optimizer'].endswith(' (fused)'), details
        assert 'the optimiser not fused' in details['reference_is']
    # each path's workers hand tensors over as its config sets it
    p6 = rows['P6 clip-cache epoch, data loading, 2 workers']['details']
    assert p6['sharing_strategy'] == dict(
        decode='file_descriptor', cache='file_system')
    p1 = rows['P1 pipeline / FFmpeg decode (detector on every clip)']
    assert 'FaceCrop' in p1['details']['stage_ms']
    assert p1['details']['reference_decoder'].startswith(('pyav', 'ffmpeg'))


def test_cuda_fails_clearly_without_cuda():
    import torch
    if torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    proc = python_tool(
        'benchmark.py', 'all', '--device', 'cuda', check=False, timeout=300)
    assert proc.returncode != 0
    assert 'CUDA is not available' in proc.stdout
    assert 'Traceback' not in proc.stdout


def test_benchmark_files_exist():
    from helpers import REPO
    assert osp.isfile(
        osp.join(REPO, 'docs', 'en', 'user_guides', 'benchmark.md'))
