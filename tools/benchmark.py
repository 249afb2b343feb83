# Copyright (c) mmemo contributors. All rights reserved.
"""Speed benchmarks that print ratios measured in one run.

``va-cache``: training a JCA/JMT fusion head on frozen encoders, one epoch
from a feature cache versus one epoch that decodes every window and runs the
encoders (what training without the cache costs)::

    python tools/benchmark.py va-cache configs/concat_synth_va.py \\
        configs/jca_synth_va.py --checkpoint ENCODERS.pth

The first config has the encoders and the decoding pipeline, the second the
cached dataset and the head. Both paths train the *same* head (the second
config's) with the same batch size; the decode path is timed over
``--max-windows`` windows (the whole epoch when 0) and extrapolated to the
epoch, the cache path over a whole epoch. The cache is filled first when it
is incomplete (a one-off cost, printed separately).
"""
import argparse
import copy
import time
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

import mmemo  # noqa: F401  (compat shims, registries)
from mmemo.apis import extract_sub_clip_features
from mmemo.registry import DATASETS, MODELS


def parse_args():
    parser = argparse.ArgumentParser(description='mmemo benchmarks')
    sub = parser.add_subparsers(dest='bench', required=True)
    va = sub.add_parser('va-cache', help='cached vs decoded head training')
    va.add_argument('decode_config', help='config with the encoders')
    va.add_argument('cached_config', help='config training from the cache')
    va.add_argument('--checkpoint', default='none', help='encoder weights')
    va.add_argument(
        '--max-windows',
        type=int,
        default=64,
        help='decode-path windows timed (0 = the whole epoch)')
    va.add_argument(
        '--num-workers',
        type=int,
        default=2,
        help='dataloader workers of the decode path')
    return parser.parse_args()


def _loader(cfg: Config, num_workers: Optional[int] = None):
    """The config's training dataloader (``num_workers`` None keeps the
    config's own)."""
    loader = copy.deepcopy(cfg.train_dataloader)
    if num_workers is not None:
        loader.num_workers = num_workers
    loader.persistent_workers = False
    return Runner.build_dataloader(loader, seed=0)


def _train_epoch(head_model, loader, encode, max_windows: int = 0) -> tuple:
    """Train the head over ``loader``; returns (seconds, windows)."""
    optim = torch.optim.Adam(head_model.cls_head.parameters(), lr=1e-4)
    head_model.train()
    windows, start = 0, time.perf_counter()
    for batch in loader:
        data = head_model.data_preprocessor(batch, True)
        feats = encode(data['inputs'])
        losses = head_model.cls_head.loss(feats, data['data_samples'])
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        windows += len(data['data_samples'])
        if max_windows and windows >= max_windows:
            break
    return time.perf_counter() - start, windows


def va_cache(args) -> None:
    decode_cfg = Config.fromfile(args.decode_config)
    cached_cfg = Config.fromfile(args.cached_config)
    init_default_scope('mmemo')
    encoders = MODELS.build(decode_cfg.model)
    encoders.init_weights()
    if args.checkpoint != 'none':
        load_checkpoint(encoders, args.checkpoint, map_location='cpu')
    encoders.eval()
    head_model = MODELS.build(cached_cfg.model)
    torch.manual_seed(0)

    # fill the cache (one-off) from the train split's dense windows
    feature_dir = next(t['feature_dir']
                       for t in cached_cfg.train_dataloader.dataset.pipeline
                       if t['type'] == 'LoadSubClipFeatures')
    dense = copy.deepcopy(decode_cfg.train_dataloader.dataset)
    dense.update(
        test_mode=True,
        pipeline=copy.deepcopy(decode_cfg.test_dataloader.dataset.pipeline))
    start = time.perf_counter()
    stats = extract_sub_clip_features(
        encoders,
        DATASETS.build(dense),
        feature_dir,
        num_workers=args.num_workers,
        progress=False)
    extract_s = time.perf_counter() - start

    def from_decode(inputs):
        with torch.no_grad():
            return encoders.extract_feat(inputs)[0]

    decode_loader = _loader(decode_cfg, args.num_workers)
    cache_loader = _loader(cached_cfg)  # its own workers (none: in process)
    epoch_windows = len(cache_loader.dataset)
    assert len(decode_loader.dataset) == epoch_windows, \
        'the two configs must sample the same training windows'
    decode_s, decode_n = _train_epoch(head_model, decode_loader, from_decode,
                                      args.max_windows)
    cache_s, cache_n = _train_epoch(head_model, cache_loader, lambda x: x)
    decode_epoch = decode_s / decode_n * epoch_windows
    cache_epoch = cache_s / cache_n * epoch_windows
    print(f'\nva-cache: {epoch_windows} training windows per epoch, '
          f'decoding with {args.num_workers} workers, cache with '
          f'{cache_loader.num_workers}, {torch.get_num_threads()} torch '
          'threads')
    print(f'  cache fill (one-off): {extract_s:.1f} s '
          f'({stats["windows"]} dense windows, {stats["videos"]} videos, '
          f'{stats["skipped"]} already cached)')
    print(f'  decode + frozen encoders: {decode_s:.2f} s for {decode_n} '
          f'windows -> {decode_epoch:.1f} s per epoch')
    print(f'  from cache:               {cache_s:.2f} s for {cache_n} '
          f'windows -> {cache_epoch:.2f} s per epoch')
    print(f'  speed-up (epoch from cache vs decoding): '
          f'{decode_epoch / cache_epoch:.1f}x')


def main():
    args = parse_args()
    dict(va_cache=va_cache)[args.bench.replace('-', '_')](args)


if __name__ == '__main__':
    main()
