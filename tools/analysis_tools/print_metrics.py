# Copyright (c) mmemo contributors. All rights reserved.
"""Print the metrics of a ``tools/test.py`` run as a table.

``tools/test.py`` writes its metrics to ``WORK_DIR/<timestamp>/
<timestamp>.json``; this prints the latest of them (or the given file) as
a Markdown table: one row per modality (``fusion`` and, when the model
scored each modality alone, ``audio`` and ``video``), one column per
metric, then the confusion matrix of the fusion.

    python tools/analysis_tools/print_metrics.py work_dirs/avtca_synth

Several paths print one table each (e.g. the valence/arousal models of
``make demo-va``).
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List

# column order; other scalar metrics follow in name order
PREFERRED = ('war', 'uar', 'macro_f1', 'weighted_f1', 'ccc_mean',
             'ccc_valence', 'ccc_arousal')


def latest_metrics_file(path: str) -> str:
    """The metrics JSON of the latest test run under a work dir."""
    if osp.isfile(path):
        return path
    files = sorted(glob.glob(osp.join(path, '*', '*.json')))
    if not files:
        raise FileNotFoundError(
            f'{path}: no test metrics (<timestamp>/<timestamp>.json); run '
            'tools/test.py with --work-dir there first')
    return files[-1]


def metrics_table(metrics: Dict[str, object]) -> List[str]:
    """Markdown lines: modalities as rows, scalar metrics as columns.

    Keys look like ``emo/war`` (the fusion) or ``emo/audio/war`` (one
    modality alone); non-scalar values (the confusion matrix) and the
    runner's unprefixed timings (``time``, ``data_time``) are left out.
    """
    rows: Dict[str, Dict[str, float]] = {}
    for key, value in metrics.items():
        if not isinstance(value, (int, float)) or '/' not in key:
            continue
        parts = key.split('/')
        row = parts[-2] if len(parts) > 2 else 'fusion'
        rows.setdefault(row, {})[parts[-1]] = float(value)
    if not rows:
        return []
    names = sorted({n for r in rows.values() for n in r})
    columns = [n for n in PREFERRED if n in names]
    columns += [n for n in names if n not in columns]
    order = [r for r in ('fusion', 'audio', 'video') if r in rows]
    order += sorted(r for r in rows if r not in order)
    lines = [
        '| input | ' + ' | '.join(columns) + ' |',
        '| --- |' + ' ---: |' * len(columns)
    ]
    for r in order:
        cells = [f'{rows[r][c]:.4f}' if c in rows[r] else '' for c in columns]
        lines.append(f'| {r} | ' + ' | '.join(cells) + ' |')
    return lines


def matrix_lines(matrix: List[List[int]]) -> List[str]:
    """Markdown lines of a confusion matrix (rows = ground truth)."""
    k = len(matrix)
    lines = [
        '| true \\ pred | ' + ' | '.join(map(str, range(k))) + ' |',
        '| --- |' + ' ---: |' * k
    ]
    for t, row in enumerate(matrix):
        lines.append(f'| {t} | ' + ' | '.join(str(int(v)) for v in row) + ' |')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'paths',
        nargs='+',
        help='work dir(s) of tools/test.py, or metrics JSON file(s)')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args()
    for i, given in enumerate(args.paths):
        path = latest_metrics_file(given)
        with open(path) as f:
            metrics = json.load(f)
        print(f'{chr(10) if i else ""}metrics of {path}\n')
        print('\n'.join(metrics_table(metrics)))
        matrices = [
            k for k, v in metrics.items()
            if k.endswith('confusion_matrix') and isinstance(v, list)
        ]
        for key in matrices:
            print(f'\n{key}:\n')
            print('\n'.join(matrix_lines(metrics[key])))


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
