# Copyright (c) mmemo contributors. All rights reserved.
"""Cache the frozen sub-clip encoder features of a valence/arousal model.

    python tools/misc/extract_va_features.py CONFIG CHECKPOINT \\
        --out data/synthetic_va/features/concat [--splits train val]

The model's encoders (``visual_encoder``/``audio_encoder`` of an
``AVRegressor``) run once over the dense test windows of each split's
dataset (the split's dataset config with the *test* pipeline, so no
augmentation), and one feature per frame is stored per video and modality
(see :mod:`mmemo.apis.feature_cache`). The extraction is resumable; run it
again after an interruption. A cache made by other encoder weights (another
stage-1 checkpoint) is refused; ``--overwrite`` empties it. The ``*_cached``
configs then train the fusion head from the cache (``LoadSubClipFeatures``)
instead of decoding video.
Without CHECKPOINT ('none') the encoders keep their configured
initialisation (``init_cfg``, e.g. TSAV weights).
"""
import argparse
import copy

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.apis import extract_sub_clip_features
from mmemo.registry import DATASETS, MODELS


def parse_args():
    parser = argparse.ArgumentParser(
        description='cache sub-clip encoder features')
    parser.add_argument('config', help='config with the encoders')
    parser.add_argument(
        'checkpoint', help="checkpoint of the encoders, or 'none'")
    parser.add_argument('--out', required=True, help='cache folder')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val'],
        choices=['train', 'val', 'test'],
        help='dataloaders whose datasets are cached')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='empty a cache made by other encoder weights (another '
        'checkpoint) instead of refusing it')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument(
        '--dtype', default='float16', choices=['float16', 'float32'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config (key=value)')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def split_dataset_cfg(cfg: Config, split: str) -> dict:
    """The split's dataset config, in test mode with the test pipeline."""
    dataset = copy.deepcopy(cfg[f'{split}_dataloader']['dataset'])
    dataset['test_mode'] = True
    dataset['pipeline'] = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    return dataset


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmemo'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint != 'none':
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()
    for split in args.splits:
        dataset = DATASETS.build(split_dataset_cfg(cfg, split))
        print(f'{split}: {len(dataset)} windows')
        stats = extract_sub_clip_features(
            model,
            dataset,
            args.out,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            dtype=args.dtype,
            overwrite=args.overwrite)
        print(f'\n{split}: {stats["videos"]} videos written, '
              f'{stats["skipped"]} already cached, {stats["windows"]} '
              f'windows run -> {args.out}')


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
