# Copyright (c) mmemo contributors. All rights reserved.
"""The decoded-clip cache: tools/data/cache_clips.py, ClipCachePipeline and
configs/*_clipcache.py on a tiny generated synthetic set."""
import copy
import importlib.util
import json
import os
import os.path as osp
import shutil
import signal

import numpy as np
import pytest
import torch
from helpers import REPO, python_tool, read_test_metrics
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmemo.datasets import BadSampleError, ClipCache
from mmemo.datasets.clip_cache import split_pipeline
from mmemo.registry import DATASETS, MODELS, TRANSFORMS

CONFIG = osp.join(REPO, 'configs', 'avtca_synth_clipcache.py')
DECODE_CONFIG = osp.join(REPO, 'configs', 'avtca_synth.py')
TESTS = osp.dirname(osp.abspath(__file__))
SPLIT = dict(generate=False, folds=[[3]], fold=1, val_subjects=[2])


@TRANSFORMS.register_module(force=True)
class KillOnceAt(BaseTransform):
    """``kill -9`` its own process at its ``at``-th sample, once (the
    ``marker`` file remembers): an interrupted ``cache_clips.py`` run.

    Args:
        at (int): 1-based sample count.
        marker (str): Created before the kill.
    """

    def __init__(self, at: int, marker: str) -> None:
        self.at, self.marker, self.seen = at, marker, 0

    def transform(self, results: dict) -> dict:
        self.seen += 1
        if self.seen == self.at and not osp.exists(self.marker):
            open(self.marker, 'w').close()
            os.kill(os.getpid(), signal.SIGKILL)
        return results


def _tool():
    spec = importlib.util.spec_from_file_location(
        'cache_clips', osp.join(REPO, 'tools', 'data', 'cache_clips.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _small(path: str, root: str, cache_dir: str, out: str) -> str:
    """The config at ``path`` on the tiny set (actor 3 tests, 2 validates,
    1 trains), one epoch, in-process loaders; written to ``out``."""
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(num_workers=0, persistent_workers=False, batch_size=4)
        loader.dataset.update(data_root=root, **SPLIT)
        step = loader.dataset.pipeline[0]
        if step['type'] == 'ClipCachePipeline':
            step['cache_dir'] = cache_dir
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint.update(save_best=None)
    cfg.param_scheduler[0].T_max = 1
    cfg.dump(out)
    return out


@pytest.fixture(scope='module')
def cached(tmp_path_factory):
    """(tmp, data root, clip-cache config, decoding config, tool summary)
    of a tiny synthetic set (18 clips, 3 actors) cached with the tool."""
    from mmemo.datasets.synthetic import generate_categorical
    tmp = tmp_path_factory.mktemp('clip_cache')
    root = str(tmp / 'synthetic')
    generate_categorical(
        root, seed=0, nproc=2, progress=False, num_actors=3, reps_per_class=1)
    cache_dir = str(tmp / 'cache')
    config = _small(CONFIG, root, cache_dir, str(tmp / 'clipcache.py'))
    decode = _small(DECODE_CONFIG, root, cache_dir, str(tmp / 'decode.py'))
    proc = python_tool('data/cache_clips.py', config, '--workers', '2',
                       '--shard-size', '4', '--no-progress')
    return tmp, root, config, decode, proc.stdout


def _scores(config: str):
    """Predictions (and the packed inputs) of a random-init model
    (seed 0) on the config's test split."""
    init_default_scope('mmemo')
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    samples = [dataset[i] for i in range(len(dataset))]
    with torch.no_grad():
        out = model.test_step(pseudo_collate(samples))
    # the fused scores and, with modality_scores, each modality's alone
    scores = torch.stack([
        torch.cat([o.pred_score[k]
                   for k in sorted(o.pred_score)]) if isinstance(
                       o.pred_score, dict) else o.pred_score for o in out
    ]).numpy()
    inputs = {
        m: np.stack([s['inputs'][m].numpy() for s in samples])
        for m in ('video', 'audio')
    }
    return scores, inputs


def test_cache_predictions_equal_decoding(cached):
    tmp, root, config, decode, stdout = cached
    assert '18 samples, 0 cached by an earlier run, 18 to cache' in stdout
    assert '18 clips cached, 0 bad' in stdout
    assert 'MiB per 1,000 clips' in stdout
    from_cache, cache_inputs = _scores(config)
    from_decoding, decode_inputs = _scores(decode)
    assert from_cache.shape[0] == 6
    # the same frames and audio features, bit for bit, the same predictions
    for modality in ('video', 'audio'):
        np.testing.assert_array_equal(cache_inputs[modality],
                                      decode_inputs[modality])
    np.testing.assert_allclose(from_cache, from_decoding, atol=1e-6, rtol=0)


def test_interrupted_cache_resumes(cached, tmp_path):
    tmp, root, config, decode, _ = cached
    tool = _tool()
    out = str(tmp_path / 'cache')
    shutil.copytree(str(tmp / 'cache'), out)
    # stopped while writing the last shard (2 samples): its .npy was
    # renamed, its index never written; a temporary file left over
    os.remove(osp.join(out, 'shard_00004.json'))
    with open(osp.join(out, 'shard_00004.tmp.npy'), 'wb') as f:
        f.write(b'partial')
    summary = tool.main(
        [config, '--out', out, '--workers', '0', '--no-progress'])[out]
    assert (summary['samples'], summary['already'],
            summary['cached']) == (18, 16, 2)
    assert summary['bad'] == []
    assert summary['mb_per_1000_clips'] > 0
    again = tool.main([config, '--out', out, '--no-progress'])[out]
    assert (again['already'], again['cached']) == (18, 0)
    # the resumed cache reads every sample as the complete one does
    cfg = Config.fromfile(config)
    step = cfg.test_dataloader.dataset.pipeline[0]
    cached_steps, _ = split_pipeline(step['pipeline'], step['until'])
    resumed = ClipCache(out, cached_steps).load()
    complete = ClipCache(str(tmp / 'cache'), cached_steps).load()
    assert sorted(resumed.entries) == sorted(complete.entries)
    for key in complete.entries:
        info = dict(filename=json.loads(key)["filename"])
        a, b = resumed.read(info), complete.read(info)
        assert sorted(a) == sorted(b)
        for name in a:
            if isinstance(a[name], (np.ndarray, list)):
                np.testing.assert_array_equal(a[name], b[name])


def test_killed_cache_run_resumes(cached, tmp_path):
    """``kill -9`` at the 6th of 6 samples, shards of 4: the rerun keeps the
    first shard and caches the last 2, equal to the uninterrupted cache."""
    tmp, root, config, decode, _ = cached
    cfg = Config.fromfile(config)
    out = str(tmp_path / 'cache')
    kill = dict(type='KillOnceAt', at=6, marker=str(tmp_path / 'killed'))
    cfg.test_dataloader.dataset.pipeline[0].pipeline.insert(0, kill)
    cfg.test_dataloader.dataset.pipeline[0].cache_dir = out
    cfg.custom_imports = dict(imports=['test_clip_cache'])
    path = str(tmp_path / 'killed.py')
    cfg.dump(path)
    args = [
        path, '--split', 'test', '--workers', '0', '--shard-size', '4',
        '--no-progress'
    ]
    env = dict(PYTHONPATH=REPO + os.pathsep + TESTS)
    proc = python_tool('data/cache_clips.py', *args, check=False, **env)
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-2000:]
    assert sorted(os.listdir(out)) == [
        'cache.json', 'shard_00000.json', 'shard_00000.npy'
    ]
    log = python_tool('data/cache_clips.py', *args, **env).stdout
    assert '6 samples, 4 cached by an earlier run, 2 to cache' in log
    assert '6 clips cached, 0 bad' in log
    init_default_scope('mmemo')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    reference = DATASETS.build(Config.fromfile(config).test_dataloader.dataset)
    for i in range(len(dataset)):
        a, b = dataset[i]['inputs'], reference[i]['inputs']
        for modality in ('video', 'audio'):
            assert torch.equal(a[modality], b[modality])


def test_changed_setting_or_file_is_refused(cached, tmp_path):
    tmp, root, config, decode, _ = cached
    init_default_scope('mmemo')
    cfg = Config.fromfile(config)
    # another window length: the cached steps differ from the cache's
    changed = copy.deepcopy(cfg.test_dataloader.dataset)
    for step in changed.pipeline[0].pipeline:
        if step['type'] == 'AVClipWindow':
            step['duration'] = 1.5
    dataset = DATASETS.build(changed)
    with pytest.raises(ValueError, match='made by other cached steps') as e:
        dataset[0]
    assert ('cache AVClipWindow(anchor=\'end\', duration=2.0) vs config '
            'AVClipWindow(anchor=\'end\', duration=1.5)') in str(e.value)
    # the tool refuses it too, and fills it anew only when told to
    changed_cfg = copy.deepcopy(cfg)
    changed_cfg.test_dataloader.dataset = changed
    path = str(tmp_path / 'changed.py')
    changed_cfg.dump(path)
    out = str(tmp_path / 'cache')
    shutil.copytree(str(tmp / 'cache'), out)
    tool = _tool()
    with pytest.raises(ValueError, match='made by other cached steps'):
        tool.main([path, '--split', 'test', '--out', out, '--no-progress'])
    summary = tool.main([
        path, '--split', 'test', '--out', out, '--overwrite', '--workers', '0',
        '--no-progress'
    ])[out]
    assert (summary['already'], summary['cached']) == (0, 6)
    # a file changed since it was cached is refused, naming it
    data_root = str(tmp_path / 'synthetic')
    shutil.copytree(root, data_root)
    moved = copy.deepcopy(cfg.test_dataloader.dataset)
    moved.update(data_root=data_root)
    dataset = DATASETS.build(moved)
    with pytest.raises(KeyError, match='has no sample'):
        dataset[0]  # other paths: not in the cache


def test_changed_file_and_bad_sample(cached, tmp_path):
    tmp, root, config, decode, _ = cached
    init_default_scope('mmemo')
    data_root = str(tmp_path / 'synthetic')
    shutil.copytree(root, data_root)
    out = str(tmp_path / 'cache')
    cfg = Config.fromfile(config)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
        cfg[f'{split}_dataloader'].dataset.pipeline[0].cache_dir = out
    path = str(tmp_path / 'copy.py')
    cfg.dump(path)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    broken = dataset.get_data_info(0)['filename']
    with open(broken, 'r+b') as f:
        f.truncate(2000)  # undecodable
    summary = _tool().main(
        [path, '--split', 'test', '--workers', '2', '--no-progress'])[out]
    assert summary['cached'] == 6
    assert [b[1] for b in summary['bad']] == [broken]
    with pytest.raises(BadSampleError, match=osp.basename(broken)):
        dataset.pipeline(dataset.get_data_info(0))
    assert dataset.pipeline(dataset.get_data_info(1))['inputs']
    # another sample's file changed after caching
    other = dataset.get_data_info(1)['filename']
    stat = os.stat(other)
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(ValueError, match=r'\[size, mtime_ns\]') as e:
        dataset.pipeline(dataset.get_data_info(1))
    assert other in str(e.value)


def test_clipcache_config_trains_an_epoch(cached):
    tmp, root, config, decode, _ = cached
    work_dir = str(tmp / 'train')
    python_tool('train.py', config, '--work-dir', work_dir, cwd=str(tmp))
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert osp.exists(checkpoint)
    # its checkpoint tested from the cache and by decoding: the same metrics
    metrics = []
    for name, cfg in (('cache', config), ('decode', decode)):
        test_dir = str(tmp / f'test_{name}')
        python_tool('test.py', cfg, checkpoint, '--work-dir', test_dir,
                    cwd=str(tmp))
        metrics.append({
            k: v
            for k, v in read_test_metrics(test_dir).items()
            if k not in ('time', 'data_time')
        })
    assert 'emo/war' in metrics[0]
    assert metrics[0] == metrics[1]
    # the random augmentations still run per epoch, on the cached frames
    init_default_scope('mmemo')
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)
    first = dataset.pipeline(dataset.get_data_info(0))['inputs']['video']
    second = dataset.pipeline(dataset.get_data_info(0))['inputs']['video']
    assert first.shape == second.shape == (1, 3, 4, 112, 112)
    assert not torch.equal(first, second)


@pytest.mark.parametrize('name', [
    'avtca_synth', 'cfnsr_synth', 'avtca_ravdess', 'avtca_cremad',
    'cfnsr_ravdess'
])
def test_clipcache_configs_split_their_base(name):
    """One cache serves every split (the same cached steps), and the steps
    run per epoch are the decoding config's own; the documented loss of
    sampling jitter is avtca_synth's alone."""
    from mmemo.datasets.clip_cache import steps_fingerprint
    cfg = Config.fromfile(osp.join(REPO, 'configs', f'{name}_clipcache.py'))
    base = Config.fromfile(osp.join(REPO, 'configs', f'{name}.py'))
    prints = set()
    for split in ('train', 'val', 'test'):
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        assert len(pipeline) == 1 and pipeline[0].type == 'ClipCachePipeline'
        assert pipeline[0].cache_dir == f'data/clip_cache/{name}'
        cached, rest = split_pipeline(pipeline[0].pipeline, pipeline[0].until)
        own = base[f'{split}_dataloader'].dataset.pipeline
        assert rest == own[len(cached):]
        # only avtca_synth trains with a random frame sampler (its jitter
        # is lost); every other cached part is the config's own
        changed = cached != [dict(s) for s in own[:len(cached)]]
        assert changed == (name == 'avtca_synth' and split == 'train')
        prints.add(steps_fingerprint(cached))
    assert len(prints) == 1
