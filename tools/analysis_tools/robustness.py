# Copyright (c) mmemo contributors. All rights reserved.
"""Robustness report: one checkpoint on its config's test set under
degraded inputs.

Conditions (``--conditions``; each family takes its parameters after a
colon, e.g. ``noise:20,0``; by default all of them):

- ``clean``: the config's test pipeline as it is (always evaluated);
- ``audio_removed`` / ``video_removed``: the modality zeroed where the
  model's modality dropout zeroes it. An ``AVRecognizer`` scores each
  modality alone in the same run (``test_cfg.modality_scores``, at its
  ``modality_level``); any other model gets the preprocessed input tensor
  zeroed (:class:`MissingModalities` before the packing step: the samples'
  ``missing_modalities``, which the recognizers zero, modality dropout's
  ``'input'`` level);
- ``noise:SNR,...`` (dB; default 20,10,5,0): white Gaussian noise on the
  waveform (:class:`AddAudioNoise`, before feature extraction);
- ``drop:RATIO,...`` (default 0.25,0.5): that share of the sampled frames
  replaced by the previous kept frame (:class:`DropFrames`, on the decoded
  frames);
- ``blur:SIGMA,...`` (pixels of the decoded frames; default 1,2,4):
  Gaussian blur (:class:`BlurFrames`, before resizing and cropping);
- ``offset:SECONDS,...`` (default ±0.1, ±0.25, ±0.5): the audio shifted
  against the video, positive = audio late (:class:`ShiftAudio`, before the
  transform that cuts the audio window).

Each condition builds MMEngine's runner from the config with the modified
test pipeline and ``load_from=CHECKPOINT`` and runs its test loop, as
``tools/test.py`` does, so the clean row is ``tools/test.py``'s result;
the per-file :class:`~mmemo.apis.AVInferencer` is not used (it reads media
files one at a time, and refuses the feature-cache configs this report
also covers). A condition's place is found by the class a pipeline step
builds (any scope, subclasses included); a condition whose place is
missing from the test pipeline (e.g. cached features) is skipped with the
reason logged and listed in the report. Writes ``robustness.md``,
``robustness.json`` and ``robustness.png`` to ``--out-dir`` and prints the
table.
"""
import argparse
import copy
import logging
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.registry import MODELS, RUNNERS, TRANSFORMS
from mmemo.utils import strict_json
from mmemo.utils.config import get_dataset_cfg

#: default parameters of each family
DEFAULTS = dict(
    noise=(20., 10., 5., 0.),
    drop=(0.25, 0.5),
    blur=(1., 2., 4.),
    offset=(-0.5, -0.25, -0.1, 0.1, 0.25, 0.5))
FAMILIES = ('clean', 'audio_removed', 'video_removed') + tuple(DEFAULTS)
#: the unit of each family's parameter, for the table and the plot
UNITS = dict(
    noise='SNR (dB)',
    drop='dropped share',
    blur='sigma (px)',
    offset='audio shift (s)')


def _decoders() -> tuple:
    """Transforms after which a pipeline holds decoded frames."""
    from mmaction.datasets import transforms as mt

    from mmemo.datasets.transforms import AVDecode, LoadFaceFrames
    return (AVDecode, LoadFaceFrames, mt.PyAVDecode, mt.DecordDecode,
            mt.OpenCVDecode, mt.RawFrameDecode, mt.PIMSDecode)


def _audio_loaders() -> tuple:
    from mmemo.datasets.transforms import LoadAudio
    return (LoadAudio, )


def _audio_cutters() -> tuple:
    """Transforms that cut the audio window out of the waveform."""
    from mmemo.datasets.transforms import SampleAlignedAudio, SubClipAudio
    return (SampleAlignedAudio, SubClipAudio)


def _perturbations() -> tuple:
    from mmemo.datasets.transforms import (AddAudioNoise, BlurFrames,
                                           DropFrames, ShiftAudio)
    return (AddAudioNoise, DropFrames, BlurFrames, ShiftAudio)


#: metric keys of the table, in order: (suffix, column title)
MAIN_METRICS = (('war', 'WAR'), ('uar', 'UAR'), ('macro_f1', 'macro-F1'),
                ('ccc_mean', 'CCC'), ('ccc_valence', 'CCC-V'), ('ccc_arousal',
                                                                'CCC-A'))


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Evaluate a checkpoint under degraded inputs')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out-dir',
        help='where the report goes (default: '
        'work_dirs/robustness/<config name>)')
    parser.add_argument(
        '--conditions',
        nargs='+',
        default=list(FAMILIES),
        help='conditions to evaluate: ' + ', '.join(FAMILIES) +
        '; a family may take its parameters, e.g. noise:20,0 offset:-0.1,0.1')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the noise and drops')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in tools/test.py')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args(argv)


def parse_conditions(specs: Sequence[str]) -> List[Tuple[str, object]]:
    """``['clean', 'noise:20,0']`` -> ``[('clean', None), ('noise', 20.),
    ('noise', 0.)]``; ``clean`` is always first."""
    out: List[Tuple[str, object]] = [('clean', None)]
    for spec in specs:
        name, _, params = spec.partition(':')
        if name not in FAMILIES:
            raise ValueError(f'unknown condition {name!r} (choose from '
                             f'{", ".join(FAMILIES)})')
        if name not in DEFAULTS:
            if params:
                raise ValueError(f'{name} takes no parameter')
            if (name, None) not in out:
                out.append((name, None))
            continue
        values = [float(v) for v in params.split(',')] if params else \
            DEFAULTS[name]
        out += [(name, v) for v in values if (name, v) not in out]
    return out


def _type(step) -> str:
    kind = step.get('type') if isinstance(step, dict) else None
    return kind.split('.')[-1] if isinstance(kind, str) else ''


def _class(step) -> Optional[type]:
    """The transform class a pipeline step builds (from any scope)."""
    kind = step.get('type') if isinstance(step, dict) else step
    if isinstance(kind, str):
        kind = TRANSFORMS.get(kind)
    return kind if isinstance(kind, type) else None


def _find(pipeline: list, classes: tuple) -> List[int]:
    """The positions of the steps that build one of ``classes``."""
    return [
        i for i, s in enumerate(pipeline)
        if _class(s) is not None and issubclass(_class(s), classes)
    ]


def _names(classes: tuple) -> str:
    return '/'.join(c.__name__ for c in classes)


def insert_perturbation(pipeline: list, family: str, value: float,
                        seed: int) -> Tuple[Optional[list], str]:
    """The test pipeline with the perturbation in place, or None and why.

    Args:
        pipeline (list): Transform configs.
        family (str): ``noise``, ``drop``, ``blur`` or ``offset``.
        value (float): The parameter.
        seed (int): Seed of the random perturbations.

    Returns:
        tuple: The new pipeline (or None) and where it went (or the reason
        it could not).
    """
    pipeline = copy.deepcopy(list(pipeline))
    if family in ('drop', 'blur'):
        where = _find(pipeline, _decoders())
        if not where:
            return None, ('the test pipeline decodes no frames (no ' +
                          _names(_decoders()[:3]) + ', ...)')
        step = dict(type='DropFrames', ratio=value, seed=seed) \
            if family == 'drop' else dict(type='BlurFrames', sigma=value)
        at = where[-1] + 1
        pipeline.insert(at, step)
        return pipeline, f'after {_type(pipeline[at - 1])}'
    if not _find(pipeline, _audio_loaders()):
        return None, 'the test pipeline loads no waveform (no LoadAudio)'
    cutters = _find(pipeline, _audio_cutters())
    if family == 'offset':
        if not cutters:
            return None, ('the test pipeline cuts no audio window (no ' +
                          _names(_audio_cutters()) + ')')
        pipeline.insert(cutters[0], dict(type='ShiftAudio', offset=value))
        return pipeline, f'before {_type(pipeline[cutters[0] + 1])}'
    # noise: on the waveform, after the window is cut, before the features
    at = (cutters or _find(pipeline, _audio_loaders()))[-1] + 1
    pipeline.insert(at, dict(type='AddAudioNoise', snr_db=value, seed=seed))
    return pipeline, f'after {_type(pipeline[at - 1])}'


def test_pipeline_of(cfg: Config) -> Tuple[dict, list]:
    """The test dataset config (the one that holds the pipeline) and its
    pipeline."""
    dataset = get_dataset_cfg(cfg, 'test', fallback=False)
    if not dataset or 'pipeline' not in dataset:
        raise ValueError('the test dataset config has no pipeline')
    return dataset, dataset.pipeline


def _model_class(cfg: Config):
    kind = cfg.model.get('type', '')
    try:
        cls = MODELS.get(kind) if isinstance(kind, str) else kind
    except Exception:  # noqa: BLE001 (unknown scope: not ours)
        cls = None
    return cls if isinstance(cls, type) else None


def scores_per_modality(cfg: Config) -> bool:
    """Whether the model scores each modality alone (``AVRecognizer``)."""
    from mmemo.models.recognizers import AVRecognizer
    cls = _model_class(cfg)
    return cls is not None and issubclass(cls, AVRecognizer)


def zeroes_missing(cfg: Config) -> bool:
    """Whether the model zeroes a sample's ``missing_modalities``
    (``AVRecognizer``, ``AVRegressor`` and their subclasses)."""
    from mmemo.models.recognizers import AVRecognizer, AVRegressor
    cls = _model_class(cfg)
    return cls is not None and issubclass(cls, (AVRecognizer, AVRegressor))


def run_test(cfg: Config, name: str, work_dir: str) -> Dict[str, object]:
    """Build the runner from ``cfg`` and run its test loop."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'robustness_{name}'
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    return dict(runner.test())


def without(cfg: Config, modality: str) -> Config:
    """``cfg`` whose test samples miss ``modality`` (zeroed by the model):
    :class:`MissingModalities` right before the packing step."""
    cfg = copy.deepcopy(cfg)
    dataset, pipeline = test_pipeline_of(cfg)
    dataset.pipeline = list(pipeline[:-1]) + [
        dict(type='MissingModalities', modalities=[modality]), pipeline[-1]
    ]
    return cfg


def main_metrics(metrics: Dict[str, object],
                 sub: str = '') -> Dict[str, float]:
    """The table's metrics (``emo/war``, ..., ``va/ccc_mean``, ...) of one
    result; ``sub`` picks a per-modality entry (``'video'`` for
    ``emo/video/war``)."""
    out = {}
    for suffix, _ in MAIN_METRICS:
        for key, value in metrics.items():
            parts = key.split('/')
            rest = parts[1:-1] if len(parts) > 1 else []
            if parts[-1] == suffix and rest == ([sub] if sub else []) \
                    and isinstance(value, (int, float)):
                out[key] = float(value)
    return out


def label(condition: str, value) -> str:
    """A file-name-safe name of a condition, e.g. ``offset_m0.5``."""
    if value is None:
        return condition
    return f'{condition}_{value:g}'.replace('-', 'm')


def evaluate(args) -> Tuple[dict, str]:
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.load_from = args.checkpoint
    cfg.launcher = 'none'
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'robustness',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    conditions = parse_conditions(args.conditions)
    _, pipeline = test_pipeline_of(cfg)

    per_modality = scores_per_modality(cfg)
    removal = [c for c, _ in conditions if c.endswith('_removed')]
    rows: List[dict] = []
    clean_cfg = copy.deepcopy(cfg)
    if per_modality and removal:
        if not clean_cfg.model.get('test_cfg'):
            clean_cfg.model.test_cfg = dict()
        clean_cfg.model.test_cfg['modality_scores'] = True
    clean = run_test(clean_cfg, 'clean', osp.join(out_dir, 'runs', 'clean'))
    clean_main = main_metrics(clean)
    if not clean_main:
        raise ValueError('the test metrics have none of the report\'s '
                         f'metrics ({", ".join(s for s, _ in MAIN_METRICS)}'
                         f'); got {sorted(clean)}')
    rows.append(
        dict(
            condition='clean',
            parameter=None,
            status='ok',
            method='config test pipeline',
            metrics=clean_main))

    for condition, value in conditions[1:]:
        name = label(condition, value)
        row = dict(condition=condition, parameter=value)
        if condition.endswith('_removed'):
            gone = condition.split('_')[0]
            kept = 'video' if gone == 'audio' else 'audio'
            metrics = main_metrics(clean, sub=kept) if per_modality else {}
            if metrics:
                level = (cfg.model.get('test_cfg')
                         or {}).get('modality_level', 'input')
                # the keys of the kept modality, renamed to the clean ones
                metrics = {
                    k.replace(f'/{kept}/', '/'): v
                    for k, v in metrics.items()
                }
                row.update(
                    status='ok',
                    method=f'model per-modality scores ({gone} zeroed at '
                    f'{level} level)',
                    metrics=metrics)
            elif not zeroes_missing(cfg):
                reason = (f'{cfg.model.get("type")} does not zero a sample\'s '
                          'missing_modalities (AVRecognizer / AVRegressor do)')
                print_log(
                    f'robustness: {condition} skipped: {reason}',
                    logger='current',
                    level=logging.WARNING)
                row.update(status='skipped', reason=reason, metrics={})
            else:
                result = run_test(
                    without(cfg, gone), name, osp.join(out_dir, 'runs', name))
                row.update(
                    status='ok',
                    method=f'{gone} input tensor zeroed after the data '
                    'preprocessor',
                    metrics=main_metrics(result))
            rows.append(row)
            continue
        new_pipeline, where = insert_perturbation(pipeline, condition, value,
                                                  args.seed)
        if new_pipeline is None:
            print_log(
                f'robustness: {condition} {value:g} skipped: {where}',
                logger='current',
                level=logging.WARNING)
            row.update(status='skipped', reason=where, metrics={})
            rows.append(row)
            continue
        run_cfg = copy.deepcopy(cfg)
        run_dataset, _ = test_pipeline_of(run_cfg)
        run_dataset.pipeline = new_pipeline
        if per_modality and run_cfg.model.get('test_cfg'):
            # only the fused scores are reported: skip the per-modality ones
            run_cfg.model.test_cfg['modality_scores'] = False
        result = run_test(run_cfg, name, osp.join(out_dir, 'runs', name))
        row.update(
            status='ok',
            method=f'{new_pipeline[_inserted(new_pipeline)]["type"]} {where}',
            metrics=main_metrics(result))
        rows.append(row)

    for row in rows:
        row['drop'] = {
            k: row['metrics'][k] - v
            for k, v in clean_main.items() if k in row['metrics']
        }
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        seed=args.seed,
        metrics=list(clean_main),
        evaluated=sum(r['status'] == 'ok' for r in rows),
        skipped=sum(r['status'] == 'skipped' for r in rows),
        rows=rows)
    return report, out_dir


def _inserted(pipeline: list) -> int:
    return _find(pipeline, _perturbations())[0]


def _title(key: str) -> str:
    suffix = key.split('/')[-1]
    return dict(MAIN_METRICS).get(suffix, suffix)


def markdown(report: dict) -> str:
    """The report as a Markdown table (drop = condition - clean)."""
    keys = report['metrics']
    head = ['condition', 'parameter']
    for k in keys:
        head += [_title(k), f'Δ{_title(k)}']
    head.append('method')
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '| --- | ---: |' + ' ---: | ---: |' * len(keys) + ' --- |'
    ]
    for row in report['rows']:
        param = '-' if row['parameter'] is None else f'{row["parameter"]:g}'
        cells = [row['condition'], param]
        for k in keys:
            if k in row['metrics']:
                # + 0.0 turns a rounded -0.0 into 0.0
                drop = round(row['drop'][k], 3) + 0.0
                cells += [f'{row["metrics"][k]:.3f}', f'{drop:+.3f}']
            else:
                cells += ['-', '-']
        cells.append(row['method'] if row['status'] ==
                     'ok' else f'skipped: {row["reason"]}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(f'{report["evaluated"]} conditions evaluated, '
                 f'{report["skipped"]} skipped. Δ = condition − clean.')
    return '\n'.join(lines) + '\n'


def plot(report: dict, path: str) -> None:
    """Metric vs severity per perturbation family, clean as a line."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    keys = report['metrics']
    rows = [r for r in report['rows'] if r['status'] == 'ok']
    clean = rows[0]['metrics']
    families = [f for f in DEFAULTS if any(r['condition'] == f for r in rows)]
    removed = [r for r in rows if r['condition'].endswith('_removed')]
    panels = families + (['removed'] if removed else [])
    fig, axes = plt.subplots(
        1,
        max(len(panels), 1),
        figsize=(4 * max(len(panels), 1), 3.4),
        squeeze=False)
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    markers = 'osd^v'
    for ax, panel in zip(axes[0], panels):
        for i, key in enumerate(keys):
            style = dict(
                color=colors[i % len(colors)],
                marker=markers[i % len(markers)],
                markersize=7 - i)
            ax.axhline(
                clean[key],
                color=style['color'],
                linestyle='--',
                linewidth=1,
                label=f'clean {_title(key)}' if panel == panels[0] else None)
            if panel == 'removed':
                xs = list(range(len(removed)))
                ax.plot(
                    xs, [r['metrics'].get(key, float('nan')) for r in removed],
                    linestyle='none',
                    **style)
                ax.set_xticks(xs)
                ax.set_xticklabels([r['condition'] for r in removed])
                ax.set_xlim(-0.5, len(removed) - 0.5)
                continue
            points = [(r['parameter'], r['metrics'].get(key, float('nan')))
                      for r in rows if r['condition'] == panel]
            if panel != 'noise':  # severity 0 is the clean input
                points.append((0., clean[key]))
            points.sort()
            ax.plot([p[0] for p in points], [p[1] for p in points],
                    label=_title(key) if panel == panels[0] else None,
                    **style)
        ax.set_title(panel)
        ax.set_xlabel(UNITS.get(panel, 'modality removed'))
        if panel == 'noise':
            ax.invert_xaxis()  # more severe to the right
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel('metric')
    axes[0][0].legend(fontsize=7, loc='lower left')
    fig.suptitle(osp.basename(report['config']))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    report, out_dir = evaluate(args)
    table = markdown(report)
    with open(osp.join(out_dir, 'robustness.md'), 'w') as f:
        f.write(table)
    with open(osp.join(out_dir, 'robustness.json'), 'w') as f:
        strict_json.dump(report, f, indent=2)
    plot(report, osp.join(out_dir, 'robustness.png'))
    print(table, end='')
    print(f'written to {out_dir}/robustness.{{md,json,png}}')
    return report


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
