# Copyright (c) mmemo contributors. All rights reserved.
"""The valence/arousal configs end to end on an Aff-Wild2 tree made of real
GRID clips: train JCA on decoded windows, write one prediction per annotated
frame, cache the frozen encoders' features, get the same predictions from the
cache, train JCA and JMT from it."""
import os.path as osp
import re
from typing import Optional

import numpy as np
import pytest
import torch
from helpers import (REPO, python_tool, read_test_metrics, read_val_metrics,
                     train_then_test)
from mmengine import DefaultScope
from mmengine.config import Config
from va_fixtures import make_affwild2_tree, make_recola_tree

from mmemo.apis import load_cache_meta
from mmemo.checkpoint import safe_torch_load
from mmemo.registry import DATASETS

VAL_VIDEO = '2-25-360x288'


def decode_config(tmp_path, root: str, preds: str) -> str:
    """jca_affwild2.py at CI size: the raw videos, random small encoders
    (no TSAV file), L = 4 sub-clips 8 frames apart of 4 frames, 64x64."""
    text = f"""
_base_ = [{osp.join(REPO, 'configs', 'jca_affwild2.py')!r}]
small = dict(init_cfg=None, layers=(1, 1, 1, 1))
model = dict(
    visual_encoder=small, audio_encoder=small, fusion_head=dict(seq_len=4))
video_ci = [
    dict(type='AVInit'),
    dict(type='SampleSubClips', clip_len=4, frame_interval=2),
    dict(type='AVDecode'),
    dict(type='mmaction.Resize', scale=(64, 64), keep_ratio=False),
]
audio = [
    dict(type='LoadAudio', sample_rate=44100),
    dict(type='SubClipAudio', duration=45599 / 44100),
    dict(type='LogMelSpectrogram', sample_rate=44100, n_fft=1024,
         win_length=882, hop_length=441, n_mels=64),
    dict(type='NormalizeAudio', mode='global', mean=-14.8, std=19.895),
]
pack = [
    dict(type='mmaction.FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
pipeline = video_ci + audio + pack
ds = dict(data_root={root!r}, source='video', seq_len=4, sub_clip_stride=8,
          pipeline=pipeline)
loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(loader, dataset=ds)
val_dataloader = dict(loader, dataset=ds)
test_dataloader = val_dataloader
test_evaluator = dict(type='CCCMetric', prediction_dir={preds!r})
train_cfg = dict(max_epochs=1)
"""
    path = tmp_path / 'jca_affwild2_ci.py'
    path.write_text(text)
    return str(path)


def cached_config(tmp_path,
                  base: str,
                  root: str,
                  features: str,
                  head: Optional[dict] = None) -> str:
    """``configs/<base>`` (a ``*_cached`` config) on the CI data: the decode
    config's windows, read from ``features``; ``head`` updates the fusion
    head."""
    text = f"""
_base_ = [{osp.join(REPO, 'configs', base)!r}]
cached = [
    dict(type='LoadSubClipFeatures', feature_dir={features!r}),
    dict(type='PackAVInputs', inputs=dict(video='video_feats',
         audio='audio_feats'), targets=dict(gt_va='gt_va', va_mask='va_mask')),
]
ds = dict(data_root={root!r}, source='video', seq_len=4, sub_clip_stride=8,
          pipeline=cached)
loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(loader, dataset=ds)
val_dataloader = dict(loader, dataset=ds)
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
model = dict(fusion_head={head or {}!r})
"""
    path = tmp_path / base.replace('.py', '_ci.py')
    path.write_text(text)
    return str(path)


def read_predictions(path: str) -> np.ndarray:
    with open(path) as f:
        assert f.readline().strip() == 'valence,arousal'
        return np.loadtxt(f, delimiter=',', ndmin=2)


@pytest.fixture(scope='module')
def affwild2(tmp_path_factory):
    return make_affwild2_tree(str(tmp_path_factory.mktemp('aw2') / 'data'))


def test_jca_affwild2_decode_cache_and_heads(affwild2, tmp_path):
    root = affwild2['root']
    preds = str(tmp_path / 'predictions')
    config = decode_config(tmp_path, root, preds)
    _, work_dir, test_dir = train_then_test(config, tmp_path)
    val = read_val_metrics(work_dir, key='va/ccc_mean')
    assert [m['step'] for m in val] == [1]
    metrics = read_test_metrics(test_dir)
    assert metrics['va/num_frames'] == affwild2['num_annotated'][VAL_VIDEO]
    assert -1 <= metrics['va/ccc_mean'] <= 1

    # one prediction per annotated frame, -5 elsewhere, in the video's file
    written = read_predictions(osp.join(preds, f'{VAL_VIDEO}.txt'))
    assert written.shape == (affwild2['num_frames'][VAL_VIDEO], 2)
    predicted = np.all(written != -5, axis=1)
    np.testing.assert_array_equal(predicted, affwild2['valid'][VAL_VIDEO])

    # cache the frozen encoders of the trained checkpoint (resumable)
    features = osp.join(root, 'features')
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    args = ('misc/extract_va_features.py', config, checkpoint, '--out',
            features, '--num-workers', '0', '--dtype', 'float32')
    log = python_tool(*args, cwd=str(tmp_path)).stdout
    assert '3 videos written' in log and '1 videos written' in log
    meta = load_cache_meta(features)
    assert set(meta['videos']) == set(affwild2['annotations'])
    for vid, info in meta['videos'].items():
        assert info['num_frames'] == affwild2['num_frames'][vid]
        array = np.load(osp.join(features, 'video', f'{vid}.npy'))
        assert array.shape == (info['num_frames'], 512)
    again = python_tool(*args, cwd=str(tmp_path)).stdout
    assert '0 videos written, 3 already cached' in again
    # features of other encoder weights never mix into this cache
    state = safe_torch_load(checkpoint)
    key = next(k for k in state['state_dict'] if k.startswith('backbone.'))
    state['state_dict'][key] = state['state_dict'][key] + 1
    other = str(tmp_path / 'other.pth')
    torch.save(state, other)
    refused = python_tool(
        args[0], config, other, *args[3:], cwd=str(tmp_path), check=False)
    assert refused.returncode == 1
    assert f'{features}: the cache holds features of other encoder ' \
        'weights' in refused.stdout
    assert load_cache_meta(features) == meta
    rewritten = python_tool(
        args[0], config, other, *args[3:], '--overwrite',
        cwd=str(tmp_path)).stdout
    assert '3 videos written' in rewritten and '1 videos written' in rewritten
    assert load_cache_meta(features)['encoders'] != meta['encoders']
    python_tool(*args, '--overwrite', cwd=str(tmp_path))  # back to epoch_1

    # the trained head on cached features predicts what it did on decoded
    # windows (the encoders are frozen)
    jca_cached = cached_config(tmp_path, 'jca_affwild2_cached.py', root,
                               features, dict(seq_len=4))
    cached_test = str(tmp_path / 'cached_test')
    python_tool(
        'test.py',
        jca_cached,
        checkpoint,
        '--work-dir',
        cached_test,
        cwd=str(tmp_path))
    cached_metrics = read_test_metrics(cached_test)
    for key in ('va/ccc_valence', 'va/ccc_arousal', 'va/mae_mean'):
        assert cached_metrics[key] == pytest.approx(metrics[key], abs=1e-4)

    # the benchmark trains the same head both ways and prints the ratio
    bench = python_tool(
        'benchmark.py',
        'va-cache',
        config,
        jca_cached,
        '--checkpoint',
        checkpoint,
        '--max-windows',
        '2',
        '--num-workers',
        '0',
        cwd=str(tmp_path)).stdout
    assert '3 already cached' in bench
    assert re.search(r'speed-up \(epoch from cache vs decoding\): [\d.]+x',
                     bench)

    # JMT trains from the same cache
    jmt_cached = cached_config(tmp_path, 'jmt_affwild2_cached.py', root,
                               features)
    work = str(tmp_path / 'jmt')
    python_tool('train.py', jmt_cached, '--work-dir', work, cwd=str(tmp_path))
    assert read_val_metrics(work, key='va/ccc_mean')[0]['step'] == 1


def test_jca_recola_config_reads_the_release(tmp_path):
    """configs/jca_recola.py on a RECOLA tree of real GRID clips: a
    training window decodes to the model's shapes, the development
    subject's dense windows cover each of its frames once."""
    recola = make_recola_tree(str(tmp_path / 'recola'))
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'jca_recola.py'))
    with DefaultScope.overwrite_default_scope('mmemo'):
        train = DATASETS.build(
            dict(
                cfg.train_dataloader.dataset,
                data_root=recola['root'],
                subjects=[16]))
        sample = train[0]
        assert sample['inputs']['video'].shape == (16, 3, 8, 112, 112)
        audio = sample['inputs']['audio']
        assert audio.shape[:2] == (16, 1) and audio.shape[-1] == 64
        assert sample['data_samples'].metainfo['video_id'] == 'P16'
        dev = DATASETS.build(
            dict(
                cfg.val_dataloader.dataset,
                data_root=recola['root'],
                subjects=['P17'],
                pipeline=[]))
    frames = np.concatenate([
        info['target_frames'][info['va_mask']]
        for info in (dev.get_data_info(i) for i in range(len(dev)))
    ])
    assert sorted(frames) == list(range(recola['num_frames']))
    # without the partition's subjects the config refuses to guess
    with pytest.raises(Exception, match='subject'):
        with DefaultScope.overwrite_default_scope('mmemo'):
            DATASETS.build(
                dict(cfg.val_dataloader.dataset, data_root=recola['root']))
