# Copyright (c) mmemo contributors. All rights reserved.
"""Generate mmemo's built-in synthetic audio-visual emotion set.

    python tools/data/synthetic/generate_synthetic.py \\
        --out data/synthetic --variant categorical --size default

Writes real media (H.264 + AAC ``.mp4`` and PCM ``.wav``) whose labels need
both modalities: ``categorical`` (6 classes = facial expression x pitch
contour; ``annotations.csv``, ``classes.txt``) or ``dimensional``
(Aff-Wild2-shaped per-frame valence/arousal txt files). Deterministic from
``--seed``; a folder that already holds the same set is left as is, one that
holds another set is refused unless ``--overwrite``. Any generator parameter
can be changed with ``--set KEY=VALUE`` (see ``meta.json`` for the list).
"""
import argparse
import os
import os.path as osp
import time

from mmengine.config import DictAction

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.datasets.synthetic import generate_categorical, generate_dimensional

DEFAULT_OUT = dict(
    categorical='data/synthetic', dimensional='data/synthetic_va')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        help='output folder (default: data/synthetic for categorical, '
        'data/synthetic_va for dimensional)')
    parser.add_argument(
        '--variant',
        choices=['categorical', 'dimensional'],
        default='categorical',
        help='6-class clips or per-frame valence/arousal videos')
    parser.add_argument(
        '--size',
        choices=['tiny', 'default'],
        default='default',
        help='tiny: 60 clips / 6 videos (CI); default: 600 clips / 30 '
        'videos')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a different synthetic set in --out')
    parser.add_argument(
        '--resolution',
        type=int,
        help='frame height and width in pixels (even; default 128)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument(
        '--set',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='other generator parameters, e.g. --set num_actors=4 '
        'snr_db_range="(20,30)"')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def _size_of(path: str) -> int:
    return sum(
        osp.getsize(osp.join(root, name)) for root, _, names in os.walk(path)
        for name in names)


def main():
    args = parse_args()
    out = args.out or DEFAULT_OUT[args.variant]
    overrides = dict(args.set)
    if args.resolution is not None:
        overrides['resolution'] = args.resolution
    generate = dict(
        categorical=generate_categorical,
        dimensional=generate_dimensional)[args.variant]
    start = time.time()
    ann = generate(
        out,
        size=args.size,
        seed=args.seed,
        overwrite=args.overwrite,
        nproc=args.nproc,
        progress=not args.no_progress,
        **overrides)
    print(f'{args.variant} synthetic set ({args.size}, seed {args.seed}) '
          f'in {out}: {_size_of(out) / 2**20:.1f} MiB, '
          f'{time.time() - start:.1f} s\nannotations: {ann}')


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
