# Copyright (c) mmemo contributors. All rights reserved.
"""Verify a CREMA-D release and write mmemo's annotation and fold files.

    python tools/data/cremad/prepare_cremad.py data/CREMA-D [--nproc 4]

Reads ``VideoFlash/*.flv`` and ``AudioWAV/*.wav`` as released (a git-lfs
clone or the GitLab mirror), opens every clip, and writes to
``<root>/mmemo_annotations/`` (or ``--out``): ``annotations.csv`` (all usable
clips), ``fold<k>_{train,test}.csv`` (HiCMAE's 5 subject blocks) and
``report.json`` (class and actor counts, durations, frame rates, problems,
clips missing from ``SentenceFilenames.csv``). Train with
``CremaDDataset(data_root=<root>, ann_file='mmemo_annotations/
annotations.csv', fold=k, split='train')`` or directly from the folders.
"""
import argparse
import csv
import os.path as osp
import sys

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.datasets import CremaDDataset
from mmemo.datasets.prepare import prepare_dataset, summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the CREMA-D folder')
    parser.add_argument(
        '--out', help='output folder (default <root>/mmemo_annotations)')
    parser.add_argument(
        '--audio',
        choices=['wav', 'video'],
        default='wav',
        help='AudioWAV/*.wav (default) or the FLV files\' own track')
    parser.add_argument(
        '--file-list',
        help='the official SentenceFilenames.csv (default: <root>/'
        'SentenceFilenames.csv when present)')
    parser.add_argument('--nproc', type=int, default=2, help='processes')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    dataset = CremaDDataset(
        args.root, pipeline=[], audio=args.audio, lazy_init=True)
    file_list = args.file_list or osp.join(args.root, 'SentenceFilenames.csv')
    expected = None
    if osp.isfile(file_list):
        with open(file_list, newline='') as f:
            expected = [row['Filename'] for row in csv.DictReader(f)]
    out = args.out or osp.join(args.root, 'mmemo_annotations')
    report = prepare_dataset(dataset, out, args.nproc, expected)
    print('\n'.join(summary(report)))
    print(f'written to {out}')
    return 0 if report['num_usable'] else 1


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    sys.exit(run_cli(main))
