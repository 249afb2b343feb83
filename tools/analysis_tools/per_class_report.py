# Copyright (c) mmemo contributors. All rights reserved.
"""Confusion matrix and per-class precision/recall/F1 of a ``--dump`` file.

``tools/test.py CONFIG CKPT --dump results.pkl`` writes every prediction
(``pred_score``, ``pred_label``, ``gt_label``, ...) to a pickle file; this
scores it offline with the functions of ``EmotionClsMetric`` (the WAR equals
the ``emo/war`` of the test run), then writes to ``--out-dir`` (by default
the dump's folder), named after the dump (``results_*``):

- ``*_confusion_matrix.png``: rows = ground truth, counts in the cells
  (``--normalize``: the row-normalised fractions, i.e. recall per cell);
- ``*_per_class_f1.png``: a bar per class, the macro-F1 as a line;
- ``*_report.json``: the matrix (counts and row-normalised), per-class
  precision/recall/F1/support and WAR, UAR, macro-F1, weighted-F1;

and prints the table. With per-modality scores (``pred_score`` a dict,
e.g. ``fusion``/``audio``/``video``) ``--key`` chooses the entry
(default ``fusion``).

    python tools/test.py CONFIG CKPT --dump work_dirs/x/results.pkl
    python tools/analysis_tools/per_class_report.py \\
        work_dirs/x/results.pkl --config CONFIG

Class names: ``--classes``, else a ``classes`` entry of the dumped samples,
else the test dataset of ``--config``, else the class indices.
The dump is a pickle file: open only dumps you made (unpickling can run
code).
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.evaluation.metrics.emotion_cls_metric import (classification_scores,
                                                         confusion_matrix,
                                                         per_class_scores)
from mmemo.utils import strict_json
from mmemo.visualization import draw_confusion_matrix

# keys of mmemo's regression outputs (valence/arousal, sentiment)
REGRESSION_KEYS = ('pred_va', 'gt_va', 'pred_sentiment', 'gt_sentiment')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dump', help='pickle file of tools/test.py --dump')
    parser.add_argument(
        '--out-dir',
        help='where to write the PNGs and JSON (default: the '
        "dump's folder)")
    parser.add_argument(
        '--key',
        default=None,
        help='entry of a per-modality pred_score dict (default: fusion)')
    parser.add_argument(
        '--classes', nargs='+', help='class names, in label order')
    parser.add_argument(
        '--config', help='config whose test dataset gives the class names')
    parser.add_argument(
        '--num-classes',
        type=int,
        help='number of classes (default: the class names or the score '
        'size)')
    parser.add_argument(
        '--normalize',
        action='store_true',
        help='write row-normalised fractions in the confusion-matrix cells')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def _numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def load_predictions(
        path: str,
        key: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, int, list]:
    """Labels, predicted classes, score size and samples of a dump.

    Args:
        path (str): The ``--dump`` pickle file.
        key (str, optional): Entry of a per-modality ``pred_score`` dict;
            ``fusion`` by default.

    Returns:
        tuple: ``labels [N]``, ``preds [N]`` (int), the number of scores
        per sample and the samples.
    """
    from mmengine.fileio import load
    samples = load(path, file_format='pkl')
    if not isinstance(samples, (list, tuple)) or not samples or \
            not all(isinstance(s, dict) for s in samples):
        raise ValueError(f'{path}: not a tools/test.py --dump file (a '
                         'non-empty list of data-sample dicts)')
    first = samples[0]
    regression = [k for k in REGRESSION_KEYS if k in first]
    if regression:
        raise ValueError(
            f'{path}: regression outputs ({", ".join(regression)}), not '
            'classification; this script needs pred_score and gt_label '
            '(for valence/arousal see the CCC metrics of tools/test.py)')
    if 'gt_label' not in first:
        raise ValueError(f'{path}: the samples have no gt_label (keys: '
                         f'{sorted(first)}); dump a test set with labels')
    if 'pred_score' not in first:
        raise ValueError(f'{path}: the samples have no pred_score (keys: '
                         f'{sorted(first)})')
    labels, preds, num_scores = [], [], 0
    for sample in samples:
        label = _numpy(sample['gt_label']).reshape(-1)
        if label.size != 1 or not np.issubdtype(label.dtype, np.integer):
            raise ValueError(
                f'{path}: gt_label {label.tolist()} is not one class index '
                '(regression or multi-label outputs are not supported)')
        scores = sample['pred_score']
        if isinstance(scores, dict):
            name = key or 'fusion'
            if name not in scores:
                raise KeyError(f'{path}: pred_score has no {name!r} entry '
                               f'(entries: {sorted(scores)}); use --key')
            scores = scores[name]
        elif key not in (None, 'fusion'):
            raise KeyError(f'{path}: pred_score is one score vector, not a '
                           f'dict of modalities; --key {key} does not apply')
        scores = _numpy(scores).reshape(-1)
        labels.append(int(label[0]))
        preds.append(int(scores.argmax()))
        num_scores = max(num_scores, scores.size)
    return np.array(labels), np.array(preds), num_scores, samples


def classes_from_config(path: str) -> Optional[List[str]]:
    """Class names of the test dataset of a config (built without a
    pipeline); None when it has none or cannot be built."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmemo.registry import DATASETS
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmemo'))
    try:
        dataset = DATASETS.build(
            dict(cfg.test_dataloader.dataset, pipeline=[]))
    except Exception as error:  # e.g. the data is not on this machine
        print(f'warning: cannot build the test dataset of {path} '
              f'({type(error).__name__}: {error}); using class indices')
        return None
    classes = dataset.metainfo.get('classes')
    return [str(c) for c in classes] if classes else None


def class_names(args, samples: Sequence[dict], num_classes: int) -> List[str]:
    if args.classes:
        names = list(args.classes)
    elif samples[0].get('classes'):
        names = [str(c) for c in samples[0]['classes']]
    elif args.config:
        names = classes_from_config(args.config) or []
    else:
        names = []
    if names and len(names) != num_classes:
        raise ValueError(f'{len(names)} class names for {num_classes} '
                         f'classes: {names}')
    return names or [str(i) for i in range(num_classes)]


def report(matrix: np.ndarray, classes: Sequence[str]) -> dict:
    """The JSON report: matrices, per-class and overall scores."""
    per_class = per_class_scores(matrix)
    rows = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(
        matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    result = dict(
        classes=list(classes),
        num_samples=int(matrix.sum()),
        confusion_matrix=matrix.tolist(),
        confusion_matrix_normalized=normalized.round(6).tolist(),
        per_class=[
            dict(
                name=name,
                precision=float(per_class['precision'][i]),
                recall=float(per_class['recall'][i]),
                f1=float(per_class['f1'][i]),
                support=int(per_class['support'][i]))
            for i, name in enumerate(classes)
        ])
    result.update(classification_scores(matrix))
    return result


def table_lines(result: dict) -> List[str]:
    """Markdown table of the per-class and overall scores."""
    lines = [
        '| class | precision | recall | F1 | support |',
        '| --- | ---: | ---: | ---: | ---: |'
    ]
    for row in result['per_class']:
        lines.append(f"| {row['name']} | {row['precision']:.4f} | "
                     f"{row['recall']:.4f} | {row['f1']:.4f} | "
                     f"{row['support']} |")
    lines.append('')
    lines.append(f"WAR {result['war']:.4f}  UAR {result['uar']:.4f}  "
                 f"macro-F1 {result['macro_f1']:.4f}  weighted-F1 "
                 f"{result['weighted_f1']:.4f}  ({result['num_samples']} "
                 'samples)')
    return lines


def draw_f1_bars(result: dict) -> np.ndarray:
    """A bar per class (its F1), the macro-F1 as a dashed line; RGB."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [row['name'] for row in result['per_class']]
    f1 = [row['f1'] for row in result['per_class']]
    fig, ax = plt.subplots(figsize=(2.5 + 0.6 * len(names), 4), dpi=80)
    bars = ax.bar(range(len(names)), f1, color='tab:blue')
    ax.bar_label(bars, labels=[f'{v:.2f}' for v in f1], fontsize=8)
    ax.axhline(
        result['macro_f1'],
        color='tab:red',
        linestyle='--',
        label=f"macro-F1 {result['macro_f1']:.3f}")
    ax.set_xticks(range(len(names)), names, rotation=45, ha='right')
    ax.set_ylim(0, 1.08)
    ax.set_ylabel('F1')
    ax.legend(loc='lower right', fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def main() -> None:
    args = parse_args()
    try:
        run(args)
    except (ValueError, KeyError) as error:  # a clear message, no traceback
        raise SystemExit(f'error: {error.args[0]}')


def run(args) -> dict:
    """Score the dump, write the PNGs and the JSON, print the table."""
    labels, preds, num_scores, samples = load_predictions(args.dump, args.key)
    num_classes = max(num_scores, labels.max() + 1, preds.max() + 1)
    if args.classes:
        num_classes = len(args.classes)
    num_classes = int(args.num_classes or num_classes)
    classes = class_names(args, samples, num_classes)
    num_classes = len(classes)
    if labels.max() >= num_classes or labels.min() < 0:
        raise ValueError(f'{args.dump}: labels outside 0..{num_classes - 1}')
    matrix = confusion_matrix(labels, preds, num_classes)
    result = dict(dump=osp.abspath(args.dump), key=args.key or 'fusion')
    result.update(report(matrix, classes))

    out_dir = args.out_dir or osp.dirname(osp.abspath(args.dump))
    os.makedirs(out_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(args.dump))[0]
    paths = {
        name: osp.join(out_dir, f'{stem}_{name}')
        for name in ('confusion_matrix.png', 'per_class_f1.png', 'report.json')
    }
    import mmcv
    mmcv.imwrite(
        draw_confusion_matrix(matrix, classes,
                              fractions=args.normalize)[..., ::-1],
        paths['confusion_matrix.png'])
    mmcv.imwrite(draw_f1_bars(result)[..., ::-1], paths['per_class_f1.png'])
    with open(paths['report.json'], 'w') as f:
        strict_json.dump(result, f, indent=2)

    print(f"{args.dump} ({result['key']})\n")
    print('\n'.join(table_lines(result)))
    print('\nconfusion matrix (rows = ground truth):')
    width = max(len(str(int(matrix.max()))), 3)
    for name, row in zip(classes, matrix):
        print(f'  {name:>12.12} ' + ' '.join(f'{v:>{width}}' for v in row))
    print('\nwritten: ' + ', '.join(paths.values()))
    return result


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
