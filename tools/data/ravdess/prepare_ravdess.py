# Copyright (c) mmemo contributors. All rights reserved.
"""Verify a RAVDESS release and write mmemo's annotation and fold files.

    python tools/data/ravdess/prepare_ravdess.py data/RAVDESS [--media av]

Reads the ``Actor_XX`` folders that the Zenodo zips unpack to (video zips
and, for ``--media av+wav|video+wav``, the audio zip, possibly under
``--audio-root``), opens every clip, and writes to
``<root>/mmemo_annotations/`` (or ``--out``): ``annotations.csv``,
``fold<k>_{train,test}.csv`` (6 folds of 4 actors) and ``report.json``.
"""
import argparse
import os.path as osp
import sys

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.datasets import RavdessDataset
from mmemo.datasets.prepare import prepare_dataset, summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the folder holding Actor_01..24')
    parser.add_argument(
        '--out', help='output folder (default <root>/mmemo_annotations)')
    parser.add_argument(
        '--media',
        choices=['av', 'av+wav', 'video+wav'],
        default='av',
        help='which released files make a sample (see RavdessDataset)')
    parser.add_argument(
        '--vocal-channel',
        choices=['speech', 'song', 'both'],
        default='speech')
    parser.add_argument('--audio-root', help='folder of the wav Actor_XX')
    parser.add_argument('--nproc', type=int, default=2, help='processes')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    dataset = RavdessDataset(
        args.root,
        pipeline=[],
        media=args.media,
        vocal_channel=args.vocal_channel,
        audio_root=osp.abspath(args.audio_root) if args.audio_root else None,
        lazy_init=True)
    out = args.out or osp.join(args.root, 'mmemo_annotations')
    report = prepare_dataset(dataset, out, args.nproc)
    print('\n'.join(summary(report)))
    print(f'written to {out}')
    return 0 if report['num_usable'] else 1


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    sys.exit(run_cli(main))
