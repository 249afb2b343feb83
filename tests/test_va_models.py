# Copyright (c) mmemo contributors. All rights reserved.
"""The valence/arousal recognizer, the concat baseline, the sub-clip
feature plumbing and the VA configs' models."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO, python_tool
from mmaction.structures import ActionDataSample
from mmengine import DefaultScope
from mmengine.config import Config

from mmemo.datasets import BadSampleError
from mmemo.datasets.transforms import CropPersonSide, LoadSubClipFeatures
from mmemo.models import ConcatVAHead
from mmemo.registry import MODELS


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg)


def samples(batch: int, length: int):
    out = []
    for _ in range(batch):
        s = ActionDataSample()
        s.set_field(torch.rand(length, 2) * 2 - 1, 'gt_va')
        s.set_field(torch.rand(length) > 0.2, 'va_mask')
        out.append(s)
    return out


def small_encoder(**extra):
    return dict(
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.ResNet',
            depth=18,
            pretrained=None,
            num_stages=1,
            strides=(1, ),
            dilations=(1, ),
            out_indices=(0, ),
            **extra),
        feat_channels=64,
        temporal_pool='max')


def test_concat_head_is_jmts_baseline():
    # JMT's concat + FC ablation: FC(1024 -> 512) + two regressors
    # FC(512 -> 128) -> FC(128 -> 1) = 524,800 + 2 * 65,793 (0.66M)
    head = ConcatVAHead()
    assert sum(p.numel() for p in head.parameters()) == \
        1024 * 512 + 512 + 2 * (512 * 128 + 128 + 128 + 1) == 656386
    out = head(
        dict(audio=torch.randn(3, 16, 512), video=torch.randn(3, 16, 512)))
    assert out.shape == (3, 16, 2)


def test_av_regressor_encodes_sub_clips_and_freezes():
    model = build(
        dict(
            type='AVRegressor',
            visual_encoder=dict(small_encoder(), per_frame=True),
            audio_encoder=small_encoder(in_channels=1),
            freeze_encoders=True,
            fusion_head=dict(
                type='ConcatVAHead', audio_channels=64, video_channels=64)))
    inputs = dict(
        video=torch.randn(2, 4, 3, 2, 32, 32),  # [B, L, C, T, H, W]
        audio=torch.randn(2, 4, 1, 20, 16))  # [B, L, 1, T, F]
    feats, _ = model.extract_feat(inputs)
    assert feats['video'].shape == (2, 4, 64)
    assert feats['audio'].shape == (2, 4, 64)
    model.train()
    assert not model.backbone.training and not model.audio_encoder.training
    assert model.cls_head.training
    batch = samples(2, 4)
    loss = model.loss(inputs, batch)['loss_ccc']
    loss.backward()
    for name, p in model.named_parameters():
        if name.startswith(('backbone.', 'audio_encoder.')):
            assert not p.requires_grad and p.grad is None, name
        else:
            assert p.grad is not None, name
    out = model.predict(inputs, batch)
    assert out[0].pred_va.shape == (4, 2)

    # without encoders the inputs are the features (a feature cache)
    cached = build(
        dict(
            type='AVRegressor',
            fusion_head=dict(
                type='ConcatVAHead', audio_channels=64, video_channels=64)))
    cached.cls_head.load_state_dict(model.cls_head.state_dict())
    cached.eval(), model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(
            cached.extract_feat(feats, stage='head')[0],
            model.extract_feat(inputs, stage='head')[0],
            atol=1e-6)


def test_token_encoder_temporal_pool():
    enc = build(dict(small_encoder(), per_frame=True, temporal_pool='avg'))
    x = torch.randn(2, 3, 5, 32, 32)  # [N, C, T, H, W]
    tokens = build(dict(small_encoder(), per_frame=True, temporal_pool=None))
    tokens.load_state_dict(enc.state_dict())
    enc.eval(), tokens.eval()
    with torch.no_grad():
        np.testing.assert_allclose(enc(x), tokens(x).mean(1), atol=1e-6)
    assert enc(x).shape == (2, 64)


def test_crop_person_side():
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    for vid, cols in (('v_left', slice(0, 3)), ('v_right', slice(3, 6)),
                      ('v', slice(0, 6))):
        out = CropPersonSide()(dict(imgs=[img, img], video_id=vid))
        np.testing.assert_array_equal(out['imgs'][1], img[:, cols])


def test_load_sub_clip_features(tmp_path):
    for modality, dim in (('video', 3), ('audio', 2)):
        (tmp_path / modality).mkdir()
        np.save(tmp_path / modality / 'v1.npy',
                np.arange(10 * dim, dtype=np.float16).reshape(10, dim))
    load = LoadSubClipFeatures(str(tmp_path))
    out = load(dict(video_id='v1', target_frames=np.array([2, 9, -1, -1])))
    video = np.arange(30).reshape(10, 3)
    # padding repeats the last real sub-clip, as SampleSubClips does
    np.testing.assert_array_equal(out['video_feats'], video[[2, 9, 9, 9]])
    assert out['audio_feats'].shape == (4, 2)
    assert out['video_feats'].dtype == np.float32
    with pytest.raises(BadSampleError, match='run tools/misc/extract_va'):
        load(dict(video_id='v2', target_frames=np.array([0])))
    with pytest.raises(BadSampleError, match='stale cache'):
        load(dict(video_id='v1', target_frames=np.array([10])))


# trainable parameters of the heads (the frozen encoders excluded); the
# counts are derived in tests/test_jca.py and tests/test_jmt.py
VA_CONFIGS = {
    'jca_affwild2.py': 330754,
    'jca_cam_affwild2.py': 8586323,
    'jmt_affwild2.py': 11170818,
    'jca_affwild2_cached.py': 330754,
    'jmt_affwild2_cached.py': 11170818,
    'jca_recola.py': 330754,
    # the synthetic stage 1: both small encoders and the concat head train
    'concat_synth_va.py': 1491714,
}


@pytest.mark.parametrize('name', sorted(VA_CONFIGS))
def test_va_config_models(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model_cfg = cfg.model
    for key in ('visual_encoder', 'audio_encoder'):
        if model_cfg.get(key) and 'synth' not in name:
            # the TSAV checkpoint is the user's file
            assert model_cfg[key].init_cfg.type == 'Pretrained'
            model_cfg[key].init_cfg = None
    model = build(model_cfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == VA_CONFIGS[name]
    assert cfg.val_evaluator.type == 'CCCMetric'
    assert cfg.val_dataloader.dataset.test_mode


def test_print_metrics_several_runs(tmp_path):
    paths = []
    for name, value in (('jca', 0.8), ('jmt', 0.7)):
        path = tmp_path / f'{name}.json'
        path.write_text(
            json.dumps({
                'va/ccc_valence': value,
                'va/ccc_arousal': value - 0.1,
                'va/ccc_mean': value - 0.05,
                'time': 1.0
            }))
        paths.append(str(path))
    out = python_tool('analysis_tools/print_metrics.py', *paths).stdout
    tables = [line for line in out.splitlines() if line.startswith('| ')]
    assert tables[0] == '| input | ccc_mean | ccc_valence | ccc_arousal |'
    assert tables[2] == '| fusion | 0.7500 | 0.8000 | 0.7000 |'
    assert tables[5] == '| fusion | 0.6500 | 0.7000 | 0.6000 |'
