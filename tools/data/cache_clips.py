# Copyright (c) mmemo contributors. All rights reserved.
"""Fill the decoded-clip cache of a ``*_clipcache`` config.

    python tools/data/cache_clips.py CONFIG [--split train val test]
        [--workers N] [--shard-size 64] [--out DIR] [--overwrite]
        [--cfg-options ...]

Every split of CONFIG whose pipeline is a ``ClipCachePipeline`` names a
cache folder (``cache_dir``) and its cached steps (the config's pipeline up
to ``until``, see :mod:`mmemo.datasets.clip_cache`). The tool builds each
such split's dataset, runs the cached steps once on every sample that the
cache lacks (or holds from files changed since) in ``--workers`` processes
with a progress bar, and writes them in shards of ``--shard-size``
samples. Stopped, it resumes after the last complete shard. Samples the
steps refuse (a :class:`~mmemo.datasets.BadSampleError`: undecodable,
no audio track, ...) are counted, listed here and recorded in the cache
(training from it refuses or skips them as the decoding path does). A
folder made by other cached steps is refused, naming both, unless
``--overwrite``. It prints the cache's size on disk per 1,000 clips.
"""
import argparse
import copy
import sys
from collections import OrderedDict
from typing import Dict, List, Optional

TOOL = 'tools/data/cache_clips.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Fill the decoded-clip cache of a *_clipcache config')
    parser.add_argument('config', help='a config with ClipCachePipeline')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'],
        help='the splits whose samples are cached')
    parser.add_argument(
        '--workers', type=int, default=2, help='worker processes')
    parser.add_argument(
        '--shard-size', type=int, default=64, help='samples per shard')
    parser.add_argument(
        '--out', help="the cache folder (default: the config's cache_dir)")
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='empty a folder made by other cached steps instead of refusing')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args(argv)


def cache_step(dataset_cfg: Optional[dict]) -> Optional[dict]:
    """The split's ``ClipCachePipeline`` step, or None."""
    from mmemo.datasets.clip_cache import step_name
    if not dataset_cfg:
        return None
    for step in dataset_cfg.get('pipeline') or []:
        if step.get('type') and step_name(step) == 'ClipCachePipeline':
            return step
    return None


def build_dataset(dataset_cfg: dict):
    """The split's dataset, every listed sample kept (its pipeline is not
    needed: the tool runs the cached steps itself)."""
    from mmemo.datasets.errors import SkipsBadSamples
    from mmemo.registry import DATASETS
    dataset_cfg = dict(copy.deepcopy(dataset_cfg), pipeline=[])
    cls = DATASETS.get(dataset_cfg['type'])
    if cls is not None and issubclass(cls, SkipsBadSamples):
        # bad samples found while building are not in the dataset at all
        dataset_cfg['on_bad_sample'] = 'skip'
    return DATASETS.build(dataset_cfg)


class _CachedSteps:
    """``[i]`` runs the cached steps on the i-th sample (in a worker)."""

    def __init__(self, infos: List[dict], cached_steps: List[dict]) -> None:
        self.infos, self.cached_steps = infos, cached_steps
        self._pipeline = None

    def __len__(self) -> int:
        return len(self.infos)

    def __getitem__(self, i: int) -> dict:
        from mmengine.dataset import Compose

        from mmemo.datasets.clip_cache import (sample_files, sample_key,
                                               split_sample)
        from mmemo.datasets.errors import BadSampleError
        if self._pipeline is None:
            self._pipeline = Compose(self.cached_steps)
        info = self.infos[i]
        sample = dict(key=sample_key(info), files=sample_files(info))
        try:
            results = self._pipeline(copy.deepcopy(info))
        except BadSampleError as e:
            return dict(sample, bad=e)
        reader = results.get('video_reader')
        if hasattr(reader, 'close'):
            reader.close()
        arrays, values = split_sample(info, results)
        return dict(sample, arrays=arrays, values=values)


def _first(batch: list) -> dict:
    return batch[0]


def fill_cache(cache_dir: str,
               cached_steps: List[dict],
               infos: List[dict],
               workers: int = 2,
               shard_size: int = 64,
               overwrite: bool = False,
               progress: bool = True) -> Dict:
    """Cache the samples the cache lacks.

    Args:
        cache_dir (str): The cache folder.
        cached_steps (list[dict]): The cached steps.
        infos (list[dict]): The samples' data infos (one per sample key).
        workers (int): Worker processes. Defaults to 2.
        shard_size (int): Samples per shard. Defaults to 64.
        overwrite (bool): Empty a folder made by other steps. Defaults to
            False.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``samples``, ``cached`` (now), ``already`` (by earlier runs),
        ``bad`` (list of ``(key, path, problem)``), ``disk_bytes``,
        ``mb_per_1000_clips``.
    """
    from mmengine.utils import ProgressBar
    from torch.utils.data import DataLoader

    from mmemo.datasets.clip_cache import ClipCache, sample_key
    cache = ClipCache(cache_dir, cached_steps).open_for_writing(overwrite)
    pending = [info for info in infos if not cache.is_current(info)]
    already = len(infos) - len(pending)
    print(f'{cache_dir}: {len(infos)} samples, {already} cached by an '
          f'earlier run, {len(pending)} to cache')
    if pending:
        loader = DataLoader(
            _CachedSteps(pending, cached_steps),
            batch_size=1,
            num_workers=workers,
            collate_fn=_first)
        bar = ProgressBar(len(pending)) if progress else None
        buffer = []
        for sample in loader:
            buffer.append(sample)
            if len(buffer) >= shard_size:
                cache.write_shard(buffer)
                buffer = []
            if bar is not None:
                bar.update()
        if buffer:
            cache.write_shard(buffer)
        if bar is not None:
            sys.stdout.write('\n')
    keys = {sample_key(info) for info in infos}
    bad = [(b['key'], b['bad']['path'], b['bad']['problem'])
           for b in cache.bad_samples() if b['key'] in keys]
    good = len(infos) - len(bad)
    disk = cache.disk_bytes()
    summary = dict(
        samples=len(infos),
        cached=len(pending),
        already=already,
        bad=bad,
        disk_bytes=disk,
        mb_per_1000_clips=round(disk / max(1, good) * 1000 / 2**20, 1))
    for key, path, problem in bad:
        print(f'  bad sample {key}: {path}: {problem}')
    print(f'{cache_dir}: {good} clips cached, {len(bad)} bad; '
          f'{disk / 2**20:.1f} MiB on disk, '
          f'{summary["mb_per_1000_clips"]} MiB per 1,000 clips')
    return summary


def plan(cfg, splits: List[str], out: Optional[str] = None) -> 'OrderedDict':
    """The caches a config's splits read: ``{cache_dir: (cached_steps,
    [data info, ...])}``, one data info per sample key."""
    from mmemo.datasets.clip_cache import sample_key, split_pipeline
    from mmemo.utils.config import get_dataset_cfg
    caches: 'OrderedDict' = OrderedDict()
    for split in splits:
        dataset_cfg = get_dataset_cfg(cfg, split, fallback=False)
        step = cache_step(dataset_cfg)
        if step is None:
            print(f'{split}: no ClipCachePipeline in its pipeline, skipped')
            continue
        cached, _ = split_pipeline(step['pipeline'], step['until'])
        cache_dir = out or step['cache_dir']
        if cache_dir in caches and caches[cache_dir][0] != cached:
            raise ValueError(
                f'{split}: its cached steps differ from those of an earlier '
                f'split that uses the same cache_dir {cache_dir!r}: give '
                'the splits different cache_dir')
        infos = caches.setdefault(cache_dir, (cached, OrderedDict()))[1]
        dataset = build_dataset(dataset_cfg)
        for idx in range(len(dataset)):
            info = dataset.get_data_info(idx)
            infos.setdefault(sample_key(info), info)
        print(f'{split}: {len(dataset)} samples -> {cache_dir}')
    if not caches:
        raise ValueError(
            f'{cfg.filename}: none of the splits {splits} reads a clip cache '
            '(a ClipCachePipeline step); use a *_clipcache config')
    return caches


def main(argv=None) -> Dict[str, Dict]:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmemo  # noqa: F401  (registries)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmemo'))
    summaries = {}
    for cache_dir, (cached, infos) in plan(cfg, args.split, args.out).items():
        summaries[cache_dir] = fill_cache(
            cache_dir,
            cached,
            list(infos.values()),
            workers=args.workers,
            shard_size=args.shard_size,
            overwrite=args.overwrite,
            progress=not args.no_progress)
    return summaries


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
