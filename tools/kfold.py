# Copyright (c) mmemo contributors. All rights reserved.
"""Subject-independent k-fold evaluation of a config.

For each fold of the dataset's protocol: train (``tools/train.py``, with
model selection on validation subjects taken from the training subjects),
test the selected checkpoint on the fold's test subjects
(``tools/test.py``), and finally write a table of the per-fold test metrics
with their mean ± sample standard deviation (ddof=1)::

    python tools/kfold.py CONFIG [--folds all|1,3,5] [--work-dir DIR]
        [--val-subjects N] [--cfg-options k=v ...] [--launcher none]
    bash tools/dist_kfold.sh CONFIG GPUS [kfold.py args]   # torchrun

Each fold runs in ``WORK_DIR/fold_K/`` as a subprocess whose output goes
to ``fold_K/train.log`` and ``fold_K/test.log``. A re-run continues where
the last one stopped: folds with recorded test results
(``fold_K/test_results.json``) are skipped, an interrupted training resumes
from its last checkpoint, a trained fold is only tested. SIGINT/SIGTERM
stop the running subprocess (its process group) before the runner exits.
"""
import argparse
import copy
import glob
import json
import math
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction

from mmemo.utils.config import get_dataset_cfg, unwrap_dataset_cfg

TOOLS_DIR = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TOOLS_DIR)
LOADERS = ('train', 'val', 'test')
RESULTS_FILE = 'test_results.json'
TRAINED_FILE = 'train_done.json'
STD_NOTE = 'sample standard deviation over the folds (ddof=1)'
#: (regex of a metric key, column title), in table order, per metric family
METRIC_FAMILIES = (
    ('classification', [(r'[^/]+/war', 'WAR'), (r'[^/]+/uar', 'UAR'),
                        (r'[^/]+/macro_f1', 'macro-F1')]),
    ('valence/arousal', [(r'[^/]+/ccc_valence', 'CCC valence'),
                         (r'[^/]+/ccc_arousal', 'CCC arousal'),
                         (r'[^/]+/ccc_mean', 'CCC mean')]),
)


class KFoldError(RuntimeError):
    """A fold failed; the message names the fold and its log file."""


# ----------------------------------------------------------------- options
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Subject-independent k-fold training and testing')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--folds',
        default='all',
        help="'all' or 1-based fold numbers, e.g. 1,3,5 (default: all)")
    parser.add_argument(
        '--work-dir',
        help='root of the fold work dirs (default: '
        'work_dirs/<config name>_kfold)')
    parser.add_argument(
        '--val-subjects',
        type=int,
        default=None,
        help='validation subjects per fold (the N highest subject ids '
        'outside the test fold) where the config has none; default: as '
        'many as the fold has test subjects. Also adds a validation loop '
        'to a config without one.')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='metric keys of the table (default: WAR/UAR/macro-F1 or CCC '
        'valence/arousal/mean, found in the test results)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (as tools/train.py), applied '
        'before the fold settings')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm'],
        default='none',
        help='how each fold is run: one process, torchrun (--gpus '
        'processes, tools/dist_launch.sh) or a slurm step '
        '(tools/slurm_launch.sh, --partition)')
    parser.add_argument(
        '--gpus',
        type=int,
        default=1,
        help='processes per fold with --launcher pytorch')
    parser.add_argument(
        '--partition', help='slurm partition with --launcher slurm')
    parser.add_argument(
        '--job-name', help='slurm job name prefix (default: the config)')
    parser.add_argument(
        '--quiet',
        action='store_true',
        help="only write the folds' output to their log files")
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args(argv)


def parse_fold_selection(text: str, num_folds: int) -> List[int]:
    """``'all'`` or ``'1,3,5'`` -> sorted 1-based fold numbers."""
    if text.strip().lower() == 'all':
        return list(range(1, num_folds + 1))
    try:
        folds = sorted({int(x) for x in text.split(',') if x.strip()})
    except ValueError:
        raise SystemExit(f'--folds: expected "all" or numbers like 1,3,5, '
                         f'got {text!r}')
    bad = [k for k in folds if not 1 <= k <= num_folds]
    if not folds or bad:
        raise SystemExit(f'--folds {text}: the protocol has folds '
                         f'1..{num_folds}')
    return folds


# ---------------------------------------------------------- config helpers
def loader_dataset(cfg, name: str) -> Optional[dict]:
    """The dataset config of the ``name`` loader that holds the split
    arguments (inside wrappers such as ``RepeatDataset``); None without
    that loader. The config's own object: the fold settings edit it."""
    return get_dataset_cfg(cfg, name, fallback=False)


def has_val_loop(cfg) -> bool:
    return bool(cfg.get('val_dataloader')) and bool(
        cfg.get('val_cfg')) and bool(cfg.get('val_evaluator'))


def dataset_class(dataset_cfg):
    from mmemo.registry import DATASETS
    type_ = dataset_cfg['type']
    if not isinstance(type_, str):
        return type_
    cls = DATASETS.get(type_)
    if cls is None:
        raise KeyError(f'dataset type {type_!r} is not registered')
    return cls


def default_folds(cls) -> Optional[list]:
    """A dataset class's standard protocol: its ``DEFAULT_FOLDS`` (see
    ``AVEmotionDataset``), test subjects per fold.

    Returns:
        list, optional: The folds as lists; ``[]`` for a class with subject
        folds but no standard protocol; None for a class without subject
        folds (no ``DEFAULT_FOLDS``).
    """
    if not hasattr(cls, 'DEFAULT_FOLDS'):
        return None
    return [list(f) for f in cls.DEFAULT_FOLDS or []]


def subjects_of(dataset) -> List:
    """The subjects of a built dataset's samples, sorted."""
    subjects = set()
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if 'subject' in info:
            subjects.add(info['subject'])
    return sorted(subjects, key=_sort_key)


def _sort_key(subject):
    return (isinstance(subject, str), subject)


def build_dataset(dataset_cfg):
    """Build a dataset without its pipeline (only its sample list)."""
    from mmemo.registry import DATASETS
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg['pipeline'] = []
    return DATASETS.build(dataset_cfg)


def resolve_protocol(cfg) -> dict:
    """The folds (test subjects per fold) and where they come from."""
    test = loader_dataset(cfg, 'test') or loader_dataset(cfg, 'train')
    if test is None:
        raise SystemExit('the config has neither test_dataloader nor '
                         'train_dataloader')
    cls = dataset_class(test)
    standard = default_folds(cls)
    if standard is None:
        raise SystemExit(f'{cls.__name__} has no subject folds (`folds`, '
                         '`fold`, `split` arguments and a `DEFAULT_FOLDS` '
                         'attribute): k-fold needs them')
    own = test.get('folds')
    if own is not None and len(own) >= 2:
        return dict(
            folds=[list(f) for f in own],
            source=f'the config\'s {len(own)} folds')
    if standard and len(standard) >= 2:
        why = 'has one fold' if own else 'lists none'
        return dict(
            folds=standard,
            source=f'{cls.__name__}\'s standard protocol, '
            f'{len(standard)} folds (the config {why})')
    # derive one: consecutive blocks of subjects, as large as the config's
    # own test fold (1 subject without one)
    size = len(own[0]) if own else 1
    everyone = copy.deepcopy(dict(test))
    everyone.update(split='all', fold=None)
    everyone.pop('subjects', None)
    subjects = subjects_of(build_dataset(everyone))
    if len(subjects) < 2:
        raise SystemExit(f'{cls.__name__}: {len(subjects)} subjects, too '
                         'few for folds')
    size = max(1, min(size, len(subjects) // 2))
    folds = [subjects[i:i + size] for i in range(0, len(subjects), size)]
    if len(folds) > 1 and len(folds[-1]) < size:
        last = folds.pop()
        folds[-1] = folds[-1] + last
    return dict(
        folds=folds,
        source=f'derived for {cls.__name__}: its {len(subjects)} subjects '
        f'in blocks of {size} ({len(folds)} folds)')


def resolve_validation(cfg, folds: Sequence[Sequence], selected: Sequence[int],
                       val_subjects: Optional[int]) -> dict:
    """How each fold's validation subjects are chosen.

    Returns:
        dict: ``mode`` ('config list', 'config count', 'default count',
        'none'), ``value`` (the list or count; a count may be None =
        the fold's size) and ``note``.
    """
    if not has_val_loop(cfg) and val_subjects is None:
        return dict(
            mode='none',
            value=None,
            note='the config has no validation loop: training uses all '
            'subjects outside the test fold and the last checkpoint is '
            'tested (give --val-subjects N to select on N validation '
            'subjects instead)')
    own = None
    for name in LOADERS:
        ds = loader_dataset(cfg, name)
        if ds is not None and ds.get('val_subjects') not in (None, [], ()):
            own = ds['val_subjects']
            break
    if isinstance(own, int) and own > 0:
        return dict(
            mode='config count',
            value=own,
            note=f'val_subjects={own} of the config: the {own} highest '
            'subject ids outside each test fold')
    if own:
        own = list(own)
        clash = [
            k for k in selected if set(map(str, own))
            & set(map(str, folds[k - 1]))
        ]
        if not clash:
            return dict(
                mode='config list',
                value=own,
                note=f'val_subjects={own} of the config (outside every '
                'selected test fold)')
        return dict(
            mode='default count',
            value=len(own),
            note=f'the config\'s val_subjects={own} overlap the test '
            f'subjects of fold(s) {clash}: each fold validates on the '
            f'{len(own)} highest subject ids outside its test fold instead')
    count = val_subjects
    return dict(
        mode='default count',
        value=count,
        note='the config has no val_subjects: each fold validates on the ' +
        (f'{count}' if count else 'as many (as it has test subjects)') +
        ' highest subject ids outside its test fold' +
        ('' if val_subjects else ' (--val-subjects N to change)'))


def main_metric(cfg) -> Optional[str]:
    """The metric ``save_best`` keeps, from the validation evaluator."""
    evaluator = cfg.get('val_evaluator') or cfg.get('test_evaluator')
    if isinstance(evaluator, (list, tuple)):
        evaluator = evaluator[0] if evaluator else None
    if not evaluator:
        return None
    type_ = str(evaluator.get('type', '')).split('.')[-1]
    prefix = evaluator.get('prefix')
    if type_ == 'EmotionClsMetric':
        return f'{prefix or "emo"}/war'
    if type_ == 'CCCMetric':
        return f'{prefix or "va"}/ccc_mean'
    return 'auto'


def fold_config(cfg, folds: Sequence[Sequence], fold: int,
                validation: dict) -> Config:
    """The config of one fold: every loader on ``fold``, the validation
    subjects, best-checkpoint selection."""
    cfg = copy.deepcopy(cfg)
    mode = validation['mode']
    if mode != 'none' and not has_val_loop(cfg):
        # --val-subjects on a config without validation: validate like the
        # test loader does, on the validation split
        test_loader = copy.deepcopy(cfg.test_dataloader)
        unwrap_dataset_cfg(test_loader.dataset)['split'] = 'val'
        cfg.val_dataloader = test_loader
        cfg.val_evaluator = copy.deepcopy(cfg.test_evaluator)
        cfg.val_cfg = dict(type='ValLoop')
    if mode == 'none':
        value = []
    elif validation['value'] is None:
        value = len(folds[fold - 1])
    else:
        value = validation['value']
    for name in LOADERS:
        ds = loader_dataset(cfg, name)
        if ds is None:
            continue
        ds['folds'] = [list(f) for f in folds]
        ds['fold'] = fold
        ds['val_subjects'] = copy.deepcopy(value)
        ds.pop('subjects', None)
    if mode != 'none':
        if not cfg.get('default_hooks'):
            cfg.default_hooks = dict()
        hooks = cfg.default_hooks
        ckpt = hooks.get('checkpoint') or dict(type='CheckpointHook')
        ckpt.setdefault('interval', 1)
        if not ckpt.get('save_best'):
            metric = main_metric(cfg)
            ckpt['save_best'] = metric
            if metric != 'auto':
                ckpt['rule'] = 'greater'
        hooks['checkpoint'] = ckpt
    return cfg


def check_subjects(cfg, fold: int, validation: dict) -> dict:
    """Build the fold's datasets (without pipelines) and check that the
    train, validation and test subjects are disjoint.

    Returns:
        dict: ``train_subjects``, ``val_subjects``, ``test_subjects``
        (present in the data) and ``num_samples`` per split.
    """
    found, sizes = {}, {}
    for name in LOADERS:
        ds_cfg = loader_dataset(cfg, name)
        if ds_cfg is None or (name == 'val' and validation['mode'] == 'none'):
            continue
        split = ds_cfg.get('split', 'all')
        dataset = build_dataset(ds_cfg)
        found[split] = subjects_of(dataset)
        sizes[split] = len(dataset)
    test, val = found.get('test', []), found.get('val', [])
    train = found.get('train', [])
    assert test, f'fold {fold}: the test split has no sample'
    if validation['mode'] != 'none':
        assert val, f'fold {fold}: the validation split has no sample'
    for (a, sa), (b, sb) in (
        (('validation', val), ('test', test)),
        (('training', train), ('test', test)),
        (('training', train), ('validation', val)),
    ):
        common = set(sa) & set(sb)
        assert not common, (f'fold {fold}: {a} and {b} subjects overlap: '
                            f'{sorted(common, key=_sort_key)}')
    return dict(
        train_subjects=train,
        val_subjects=val,
        test_subjects=test,
        num_samples=sizes)


# --------------------------------------------------------------- processes
class Runner:
    """Runs the fold subprocesses; stops them on SIGINT/SIGTERM."""

    def __init__(self, args):
        self.args = args
        self.proc: Optional[subprocess.Popen] = None
        self.interrupted: Optional[int] = None

    def install_signal_handlers(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame):
        self.interrupted = signum
        self.stop_child()
        name = signal.Signals(signum).name
        print(
            f'kfold: {name} received, stopped; run the same command again '
            'to continue',
            file=sys.stderr,
            flush=True)
        sys.exit(128 + signum)

    def stop_child(self, grace: float = 30.0):
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def command(self, script: str, fold: int, *script_args) -> List[str]:
        args = self.args
        path = osp.join(TOOLS_DIR, script)
        if args.launcher == 'pytorch':
            return [
                'bash',
                osp.join(TOOLS_DIR, 'dist_launch.sh'),
                str(args.gpus), path, *script_args
            ]
        if args.launcher == 'slurm':
            job = args.job_name or osp.splitext(osp.basename(args.config))[0]
            return [
                'bash',
                osp.join(TOOLS_DIR, 'slurm_launch.sh'), args.partition,
                f'{job}_fold{fold}', path, *script_args
            ]
        return [sys.executable, path, *script_args]

    def run(self, cmd: List[str], log_file: str, banner: str) -> int:
        env = dict(os.environ)
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHON'] = sys.executable  # for dist_launch / slurm_launch
        env['PYTHONPATH'] = REPO + (
            os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
        with open(log_file, 'a') as log:
            log.write(f'\n===== kfold {time.strftime("%Y-%m-%d %H:%M:%S")}'
                      f': {banner}\n===== {" ".join(cmd)}\n')
            log.flush()
            self.proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True)
            try:
                for line in iter(self.proc.stdout.readline, b''):
                    log.write(line.decode(errors='replace'))
                    log.flush()
                    if not self.args.quiet:
                        sys.stdout.write(line.decode(errors='replace'))
                        sys.stdout.flush()
                return self.proc.wait()
            finally:
                self.stop_child()
                self.proc.stdout.close()
                self.proc = None


# ------------------------------------------------------------------- folds
def read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, data) -> None:
    from mmemo.utils import strict_json
    strict_json.dump_atomic(data, path, newline=True, indent=2)


def _epoch(path: str) -> int:
    match = re.search(r'epoch_(\d+)\.pth$', path) or re.search(
        r'iter_(\d+)\.pth$', path)
    return int(match.group(1)) if match else -1


def resume_checkpoint(fold_dir: str) -> Optional[str]:
    """The checkpoint an interrupted training continues from."""
    pointer = osp.join(fold_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            path = f.read().strip()
        if path and osp.isfile(path):
            return path
    ckpts = [
        p for p in glob.glob(osp.join(fold_dir, '*.pth'))
        if re.search(r'(epoch|iter)_\d+\.pth$', osp.basename(p))
        and not osp.basename(p).startswith('best_')
    ]
    return max(ckpts, key=_epoch) if ckpts else None


def selected_checkpoint(fold_dir: str,
                        selection: str,
                        metric: Optional[str] = None) -> Optional[str]:
    """The best validation checkpoint (of ``metric`` where the hook keeps
    several), else the last one."""
    if selection == 'best':
        best = glob.glob(osp.join(fold_dir, 'best_*.pth'))
        if metric and metric != 'auto':
            name = 'best_' + metric.replace('/', '_') + '_'
            best = [p
                    for p in best if osp.basename(p).startswith(name)] or best
        if best:
            return max(best, key=lambda p: (_epoch(p), osp.getmtime(p)))
    return resume_checkpoint(fold_dir)


def latest_test_metrics(test_dir: str) -> Optional[dict]:
    """Metrics JSON of the latest ``tools/test.py`` run in ``test_dir``."""
    paths = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    return read_json(paths[-1]) if paths else None


def run_fold(runner: Runner, base_cfg, folds, fold: int, validation: dict,
             work_dir: str) -> dict:
    """Train (or resume) and test one fold; return its recorded results."""
    fold_dir = osp.join(work_dir, f'fold_{fold}')
    results_file = osp.join(fold_dir, RESULTS_FILE)
    done = read_json(results_file)
    if done is not None and 'metrics' in done:
        print(
            f'kfold: fold {fold}: test results recorded in '
            f'{results_file}, skipped',
            flush=True)
        return done
    os.makedirs(fold_dir, exist_ok=True)
    cfg = fold_config(base_cfg, folds, fold, validation)
    try:
        subjects = check_subjects(cfg, fold, validation)
    except Exception as e:  # a bad split or a dataset that does not build
        raise KFoldError(f'fold {fold}: checking its subjects (building its '
                         f'datasets here, before training) failed: '
                         f'{type(e).__name__}: {e}') from e
    print(
        f'kfold: fold {fold}: test subjects {subjects["test_subjects"]}, '
        f'validation subjects {subjects["val_subjects"] or "none"}, '
        f'{len(subjects["train_subjects"])} training subjects',
        flush=True)
    # outside the fold's work dir: the training runner dumps its own
    # config (with `resume`, `load_from`) there under the same name
    config_file = osp.join(work_dir, 'configs', f'fold_{fold}.py')
    os.makedirs(osp.dirname(config_file), exist_ok=True)
    cfg.dump(config_file)
    train_log = osp.join(fold_dir, 'train.log')
    test_log = osp.join(fold_dir, 'test.log')

    if read_json(osp.join(fold_dir, TRAINED_FILE)) is None:
        train_args = [config_file, '--work-dir', fold_dir]
        resume = resume_checkpoint(fold_dir)
        if resume:
            banner = f'fold {fold}: resuming training from {resume}'
            train_args += ['--resume', resume]
        else:
            banner = f'fold {fold}: training'
        print(f'kfold: {banner} (log: {train_log})', flush=True)
        rc = runner.run(
            runner.command('train.py', fold, *train_args), train_log, banner)
        if rc != 0:
            raise KFoldError(f'fold {fold}: training failed (exit code {rc})'
                             f'; see its log {train_log}')
        write_json(
            osp.join(fold_dir, TRAINED_FILE),
            dict(fold=fold, time=time.strftime('%Y-%m-%d %H:%M:%S')))
    else:
        print(f'kfold: fold {fold}: already trained, testing only', flush=True)

    selection = 'last' if validation['mode'] == 'none' else 'best'
    save_best = (cfg.get('default_hooks') or {}).get('checkpoint',
                                                     {}).get('save_best')
    if isinstance(save_best, (list, tuple)):
        save_best = save_best[0] if save_best else None
    checkpoint = selected_checkpoint(fold_dir, selection, save_best)
    if checkpoint is None:
        raise KFoldError(f'fold {fold}: no checkpoint in {fold_dir}; see '
                         f'its training log {train_log}')
    if selection == 'best' and not osp.basename(checkpoint).startswith(
            'best_'):
        selection = 'last (no best checkpoint was saved)'
    test_dir = osp.join(fold_dir, 'test')
    banner = f'fold {fold}: testing {checkpoint}'
    print(f'kfold: {banner} (log: {test_log})', flush=True)
    rc = runner.run(
        runner.command('test.py', fold, config_file, checkpoint, '--work-dir',
                       test_dir), test_log, banner)
    metrics = latest_test_metrics(test_dir)
    if rc != 0 or metrics is None:
        raise KFoldError(f'fold {fold}: testing failed (exit code {rc}); '
                         f'see its log {test_log}')
    record = dict(
        fold=fold,
        checkpoint=osp.relpath(checkpoint, fold_dir),
        selection=selection,
        **subjects,
        metrics=metrics,
        config=osp.relpath(config_file, work_dir),
        train_log=osp.relpath(train_log, work_dir),
        test_log=osp.relpath(test_log, work_dir))
    write_json(results_file, record)
    return record


# ------------------------------------------------------------------- table
def metric_columns(records: Sequence[dict],
                   wanted: Optional[Sequence[str]] = None) -> List[tuple]:
    """(key, title) of the table's metric columns."""
    keys = [
        k for k, v in records[0]['metrics'].items()
        if isinstance(v, (int, float))
    ]
    if wanted:
        missing = [k for k in wanted if k not in keys]
        if missing:
            raise SystemExit(f'--metrics {missing} not in the test results '
                             f'(have {keys})')
        return [(k, k) for k in wanted]
    for _, family in METRIC_FAMILIES:
        cols = []
        for pattern, title in family:
            match = next((k for k in keys if re.fullmatch(pattern, k)), None)
            if match:
                cols.append((match, title))
        if cols:
            return cols
    return [(k, k) for k in keys]


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (ddof=1; NaN for one value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float('nan')
    var = sum((v - mean)**2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


def _fmt(value: float) -> str:
    return 'n/a' if value is None or math.isnan(value) else f'{value:.4f}'


def _subjects_text(subjects: Sequence) -> str:
    return ', '.join(map(str, subjects)) or '-'


def summarize(records: Sequence[dict], columns: Sequence[tuple],
              header: dict) -> tuple:
    """The Markdown table and the JSON summary."""
    summary = {}
    for key, _ in columns:
        mean, std = mean_std([float(r['metrics'][key]) for r in records])
        summary[key] = dict(
            mean=mean, std=None if math.isnan(std) else std, n=len(records))
    lines = [
        f'# k-fold results: {header["config"]}', '',
        f'- protocol: {header["protocol"]}',
        f'- validation: {header["validation"]}', f'- std: {STD_NOTE}', '',
        '| fold | test subjects | validation subjects | checkpoint | ' +
        ' | '.join(t for _, t in columns) + ' |',
        '| ---: | --- | --- | --- | ' + ' | '.join('---:'
                                                   for _ in columns) + ' |'
    ]
    for r in records:
        lines.append(f'| {r["fold"]} | {_subjects_text(r["test_subjects"])} '
                     f'| {_subjects_text(r["val_subjects"])} '
                     f'| {r["checkpoint"]} | ' + ' | '.join(
                         _fmt(float(r['metrics'][k]))
                         for k, _ in columns) + ' |')
    cells = []
    for key, _ in columns:
        std = summary[key]['std']
        cells.append(f'{_fmt(summary[key]["mean"])} ± '
                     f'{_fmt(math.nan if std is None else std)}')
    lines.append('| mean ± std | | | | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n', summary


# -------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    if int(os.environ.get('WORLD_SIZE', '1')) > 1:
        raise SystemExit('kfold.py runs once and launches each fold itself; '
                         'use tools/dist_kfold.sh CONFIG GPUS (or '
                         '--launcher pytorch --gpus N), not torchrun')
    if args.launcher == 'slurm' and not args.partition:
        raise SystemExit('--launcher slurm needs --partition')

    import mmemo  # noqa: F401  (compat shims, registries)
    from mmengine.registry import init_default_scope

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmemo'))
    work_dir = args.work_dir or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0] + '_kfold')
    os.makedirs(work_dir, exist_ok=True)

    protocol = resolve_protocol(cfg)
    folds = protocol['folds']
    selected = parse_fold_selection(args.folds, len(folds))
    validation = resolve_validation(cfg, folds, selected, args.val_subjects)
    print(
        f'kfold: protocol: {protocol["source"]}: ' +
        '; '.join(f'fold {k}: {_subjects_text(f)}'
                  for k, f in enumerate(folds, start=1)),
        flush=True)
    print(f'kfold: folds to run: {selected}', flush=True)
    print(f'kfold: validation: {validation["note"]}', flush=True)

    runner = Runner(args)
    runner.install_signal_handlers()
    records = []
    try:
        for fold in selected:
            records.append(
                run_fold(runner, cfg, folds, fold, validation, work_dir))
    except KFoldError as e:
        print(f'kfold: ERROR: {e}', file=sys.stderr, flush=True)
        return 1

    columns = metric_columns(records, args.metrics)
    header = dict(
        config=args.config,
        protocol=protocol['source'],
        validation=validation['note'])
    table, summary = summarize(records, columns, header)
    with open(osp.join(work_dir, 'kfold_results.md'), 'w') as f:
        f.write(table)
    write_json(
        osp.join(work_dir, 'kfold_results.json'),
        dict(
            config=args.config,
            protocol=dict(source=protocol['source'], folds=folds),
            validation=dict(
                mode=validation['mode'],
                value=validation['value'],
                note=validation['note']),
            selected_folds=selected,
            metrics=[k for k, _ in columns],
            std=STD_NOTE,
            summary=summary,
            folds=records))
    print(table, flush=True)
    print(
        f'kfold: wrote {osp.join(work_dir, "kfold_results.md")} and '
        f'kfold_results.json',
        flush=True)
    return 0


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    sys.exit(run_cli(main))
