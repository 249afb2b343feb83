# Copyright (c) mmemo contributors. All rights reserved.
"""Encode segmented transcripts into per-segment text features.

    python tools/misc/extract_text_features.py TRANSCRIPTS MODEL_DIR \\
        --out data/affwild2/features/text_roberta [--format maven|mosei] \\
        [--video-dir VIDEOS | --durations durations.json] [--device cuda]

Each transcript ``TRANSCRIPTS/<video_id><suffix>`` is cut into segments
(:mod:`mmemo.datasets.transcripts`), every segment's text is encoded by
:class:`~mmemo.models.HFTextEncoder` built from the local Hugging Face
folder MODEL_DIR (e.g. a downloaded ``roberta-base``; nothing is
downloaded) and pooled to one vector, and ``<out>/<video_id>.npz`` gets
``features`` float32 [S, D] and ``intervals`` float64 [S, 2] (start, end
seconds), the layout ``LoadSequenceFeatures`` reads. An empty MAVEN
transcript is one segment over the whole video, whose duration comes from
``--durations`` or the video in ``--video-dir``. The extraction is
resumable (see :mod:`mmemo.apis.text_features`): run it again after an
interruption.
"""
import argparse

from mmengine.registry import init_default_scope

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.apis import duration_lookup, extract_text_features
from mmemo.datasets.transcripts import TRANSCRIPT_FORMATS
from mmemo.registry import MODELS


def parse_args():
    parser = argparse.ArgumentParser(
        description='encode transcripts into per-segment text features')
    parser.add_argument('transcripts', help='folder of transcripts')
    parser.add_argument(
        'model_dir', help='local Hugging Face model folder (roberta-base)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--format',
        default='maven',
        choices=sorted(TRANSCRIPT_FORMATS),
        help='transcript format')
    parser.add_argument(
        '--suffix', default='.txt', help='transcript file suffix')
    parser.add_argument(
        '--pooling',
        default='mean',
        choices=['mean', 'code', 'cls'],
        help="'mean' over real tokens; 'code' = MAVEN's mean incl. padding")
    parser.add_argument('--max-length', type=int, default=512)
    parser.add_argument(
        '--padding', default='longest', choices=['longest', 'max_length'])
    parser.add_argument(
        '--batch-size', type=int, default=32, help='segments per pass')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--durations',
        help='JSON {video_id: seconds} or "video_id seconds" lines, for '
        'empty transcripts')
    parser.add_argument(
        '--video-dir',
        help='videos (<video_id>.*) probed for the duration of empty '
        'transcripts not in --durations')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    init_default_scope('mmemo')
    encoder = MODELS.build(
        dict(
            type='HFTextEncoder',
            model_dir=args.model_dir,
            pooling=args.pooling,
            max_length=args.max_length,
            padding=args.padding,
            frozen=True))
    encoder.to(args.device)
    stats = extract_text_features(
        encoder,
        args.transcripts,
        args.out,
        fmt=args.format,
        suffix=args.suffix,
        duration_of=duration_lookup(args.durations, args.video_dir),
        batch_size=args.batch_size)
    print(f'\n{stats["videos"]} videos written ({stats["segments"]} '
          f'segments, {stats["empty"]} empty transcripts), '
          f'{stats["skipped"]} already there; features {stats["dim"]}-d, '
          f'{args.pooling} pooling -> {args.out}')


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
