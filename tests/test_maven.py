# Copyright (c) mmemo contributors. All rights reserved.
"""MAVEN: parameter counts, the polar output, key-padding masks, two and
three streams, the MSE(+CCC) loss, LoadSequenceFeatures on generated
feature files and the configs trained end to end (Aff-Wild2 tree of real
GRID clips with generated features, the tiny synthetic VA set)."""
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO, python_tool, read_val_metrics
from mmaction.structures import ActionDataSample
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.structures import BaseDataElement
from va_fixtures import make_affwild2_tree

from mmemo.datasets import BadSampleError, SyntheticVADataset
from mmemo.datasets.transforms import LoadSequenceFeatures
from mmemo.evaluation.functional import concordance_cc
from mmemo.models import MAVENHead, VAMSELoss
from mmemo.models.layers import angular_difference, to_va, va_to_polar
from mmemo.registry import DATASETS, MODELS

PAPER = dict(video=1024, audio=768, text=768)


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg)


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def linear(i: int, o: int) -> int:
    return i * o + o


def mha(d: int) -> int:
    """nn.MultiheadAttention: in_proj 3d x d + 3d, out_proj d x d + d."""
    return 4 * d * d + 4 * d


def feats(batch=2, frames=6, tokens=1, dims=PAPER, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = {'video': torch.randn(batch, frames, dims['video'], generator=g)}
    for s in dims:
        if s != 'video':
            out[s] = torch.randn(batch, tokens, dims[s], generator=g)
    return out


def samples(batch: int, length: int, **padding_masks):
    """Data samples with targets and, per stream, a ``[B, N]`` padding
    mask in their ``padding_masks`` field (as ``PackAVInputs`` packs it)."""
    out = []
    for i in range(batch):
        s = ActionDataSample()
        s.set_field(torch.rand(length, 2) * 2 - 1, 'gt_va')
        mask = torch.ones(length, dtype=torch.bool)
        mask[i::3] = False
        s.set_field(mask, 'va_mask')
        if padding_masks:
            s.set_field(
                BaseDataElement(**{
                    k: v[i]
                    for k, v in padding_masks.items()
                }), 'padding_masks')
        out.append(s)
    return out


# ----------------------------------------------------------------- counts
def test_parameter_counts():
    head = MAVENHead()  # the code's setting: 3 streams, MLP head
    cross = linear(1024, 512) + 2 * linear(768, 512) + 6 * mha(512) + \
        2 * 512  # projections, six pathways, the one shared LayerNorm
    mlp = linear(1536, 512) + linear(512, 256) + linear(256, 2)
    assert (cross, mlp) == (7617024, 918786)
    assert num_params(head.predictor) == mlp
    assert num_params(head) == cross + mlp == 8535810
    assert list(head.cross_attns) == [
        'video_audio', 'video_text', 'audio_video', 'audio_text', 'text_video',
        'text_audio'
    ]
    # two streams: no text projection, no text pathway
    two = MAVENHead(in_channels=dict(video=1024, audio=768))
    assert num_params(two) == linear(1024, 512) + linear(768, 512) + \
        2 * mha(512) + 2 * 512 + linear(1024, 512) + linear(512, 256) + \
        linear(256, 2) == 3677442
    assert not any('text' in k for k in two.state_dict())
    # options: per-stream LayerNorms, the paper's self-attention refinement
    assert num_params(MAVENHead(shared_norm=False)) == 8535810 + 2 * 1024
    assert num_params(MAVENHead(self_attention=True)) == \
        8535810 + 3 * (mha(512) + 2 * 512) == 11690754
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'maven_affwild2.py'))
    assert num_params(build(cfg.model)) == 8535810
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'maven_affwild2_av.py'))
    assert num_params(build(cfg.model)) == 3677442
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'maven_synth_va.py'))
    assert num_params(build(cfg.model)) == 2 * linear(128, 512) + \
        2 * mha(512) + 2 * 512 + linear(1024, 512) + linear(512, 256) + \
        linear(256, 2) == 2891010


def test_shapes_and_token_layouts():
    head = MAVENHead().eval()
    x = feats(frames=7)
    x['audio'] = x['audio'][:, 0]  # one vector per segment, [B, D]
    assert head(x).shape == (2, 7, 2)
    assert head.forward_polar(x).shape == (2, 7, 2)
    # per-frame audio/text tokens, aligned with the video's frames
    framed = MAVENHead(temporal_align=dict(audio='frame', text='frame'))
    assert framed.eval()(feats(frames=5, tokens=5)).shape == (2, 5, 2)
    with pytest.raises(ValueError, match='one audio token per video frame'):
        framed(feats(frames=5, tokens=3))
    with pytest.raises(ValueError, match='temporal_align'):
        MAVENHead(temporal_align=dict(text='nearest'))
    with pytest.raises(ValueError, match='needs "video"'):
        MAVENHead(in_channels=dict(audio=768, text=768))
    with pytest.raises(ValueError, match='intensity'):
        MAVENHead(intensity='relu')


# ------------------------------------------------------------------ polar
def test_polar_conversions_and_the_wrap():
    va = torch.tensor([[0.5, 0.5], [-1.0, 0.0], [0.0, -0.7], [0.3, -0.4]])
    polar = va_to_polar(va)
    assert polar[1, 0] == pytest.approx(math.pi)
    assert polar[2, 0] == pytest.approx(-math.pi / 2)
    assert polar[3, 1] == pytest.approx(0.5)
    assert (polar[:, 1] >= 0).all()
    torch.testing.assert_close(to_va(polar), va)
    # either side of theta = +-pi: nearly the same (v, a), a small angle
    eps = 1e-3
    above, below = torch.tensor([math.pi - eps, 1.]), \
        torch.tensor([-math.pi + eps, 1.])
    assert (to_va(above) - to_va(below)).abs().max() < 3 * eps
    assert angular_difference(above[0], below[0]).item() == \
        pytest.approx(-2 * eps, abs=1e-6)
    assert angular_difference(torch.tensor(7.0), torch.tensor(0.5)).item() \
        == pytest.approx(6.5 - 2 * math.pi)
    # the polar loss sees the small angle, not 2 pi - 2 eps
    theta = torch.tensor([[math.pi - eps, 1.]], requires_grad=True)
    target = to_va(torch.tensor([[-math.pi + eps, 1.]]))
    loss = VAMSELoss(space='polar')(to_va(theta), target, pred_polar=theta)
    assert loss.item() == pytest.approx((2 * eps)**2 / 2, rel=1e-3)
    loss.backward()
    assert theta.grad[0, 0] == pytest.approx(-2 * eps, rel=1e-3)


@pytest.mark.parametrize('intensity', ['softplus', 'abs', 'none'])
def test_intensity_is_non_negative(intensity):
    torch.manual_seed(0)
    head = MAVENHead(
        in_channels=dict(video=8, audio=8), embed_dim=16,
        intensity=intensity).eval()
    last = head.predictor[-1]
    with torch.no_grad():  # a raw intensity of about -3 everywhere
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.2, -3.0]))
    x = feats(dims=dict(video=8, audio=8))
    polar = head.forward_polar(x)
    if intensity == 'none':  # the code: negative intensities come out
        assert (polar[..., 1] < 0).all()
    else:
        assert (polar[..., 1] >= 0).all()
    torch.testing.assert_close(head(x), to_va(polar))


# ------------------------------------------------------------------ masks
@pytest.mark.parametrize('refine', [False, True])
def test_padded_tokens_change_no_output(refine):
    torch.manual_seed(0)
    head = MAVENHead(
        temporal_align=dict(audio='frame'), self_attention=refine).eval()
    x = feats(frames=6, tokens=6)
    x['text'] = torch.randn(2, 4, 768)  # 4 segment tokens
    video_pad = torch.tensor([[0, 0, 0, 0, 1, 1], [0] * 6]).bool()
    audio_pad = torch.tensor([[1, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0]]).bool()
    # the second sample has no text at all: its pathways give zeros
    text_pad = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]).bool()
    masks = dict(
        video_padding_mask=video_pad,
        audio_padding_mask=audio_pad,
        text_padding_mask=text_pad)
    with torch.no_grad():
        out = head(dict(x, **masks))
        changed = {
            s:
            torch.where(masks[f'{s}_padding_mask'][..., None],
                        torch.randn_like(x[s]) * 10, x[s])
            for s in ('video', 'audio', 'text')
        }
        again = head(dict(changed, **masks))
        unmasked = head(changed)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(again, out, rtol=0, atol=1e-5)
    # without the masks the padding leaks into every frame
    assert not torch.allclose(unmasked[1], out[1], atol=1e-3)


def test_masks_reach_the_head_through_the_data_samples():
    torch.manual_seed(0)
    model = build(
        dict(
            type='AVRegressor',
            fusion_head=dict(
                type='MAVENHead',
                in_channels=dict(video=16, audio=8, text=8),
                embed_dim=32,
                num_heads=2)))
    inputs = feats(frames=5, tokens=3, dims=dict(video=16, audio=8, text=8))
    text_pad = torch.tensor([[0, 1, 1], [0, 0, 1]]).bool()
    batch = samples(2, 5, text=text_pad)
    loss = model.loss(inputs, batch)['loss_va']
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, batch)
        head_out, _ = model.extract_feat(
            inputs, stage='head', data_samples=batch)
        inputs['text'][1, 2] += 100  # a padded token
        moved = model.predict(inputs, batch)
        no_mask, _ = model.extract_feat(inputs, stage='head')
    assert out[0].pred_va.shape == (5, 2)
    for a, b, c in zip(out, moved, head_out):
        torch.testing.assert_close(a.pred_va, b.pred_va)
        torch.testing.assert_close(a.pred_va, c)
    assert not torch.allclose(no_mask[1], head_out[1])
    # two streams: the inputs need no text; a text encoder needs text
    two = build(
        dict(
            type='AVRegressor',
            fusion_head=dict(
                type='MAVENHead',
                in_channels=dict(video=16, audio=8),
                embed_dim=32)))
    del inputs['text']
    assert two.extract_feat(inputs, stage='head')[0].shape == (2, 5, 2)
    with_text = build(
        dict(
            type='AVRegressor',
            text_encoder=dict(
                type=torch.nn.Linear, in_features=8, out_features=8),
            fusion_head=dict(
                type='MAVENHead',
                in_channels=dict(video=16, audio=8, text=8),
                embed_dim=32)))
    assert sorted(with_text.encoders()) == ['text']
    with pytest.raises(KeyError, match='no "text"'):
        with_text.extract_feat(inputs)
    inputs['text'] = torch.randn(2, 3, 8)
    encoded, _ = with_text.extract_feat(inputs)
    torch.testing.assert_close(encoded['text'],
                               with_text.text_encoder(inputs['text']))
    # a mask packed as a target (a stale config) is refused, not ignored
    for sample, mask in zip(batch, text_pad):
        sample.set_field(mask, 'text_padding_mask')
    with pytest.raises(ValueError, match='not a target'):
        model.predict(inputs, batch)


# ------------------------------------------------------------------- loss
def test_loss_terms_masks_and_gradients():
    torch.manual_seed(0)
    pred = (torch.rand(3, 8, 2) * 2 - 1).requires_grad_()
    target = torch.rand(3, 8, 2) * 2 - 1
    mask = torch.rand(3, 8) > 0.3
    mse = VAMSELoss()(pred, target, mask)
    expected = (pred - target)[mask].pow(2).mean()
    torch.testing.assert_close(mse, expected)
    both = VAMSELoss(ccc_weight=0.5)(pred, target, mask)
    ccc = concordance_cc(
        pred.detach().reshape(-1, 2),
        target.reshape(-1, 2),
        mask.reshape(-1),
        ddof=1)
    assert both.item() == pytest.approx(
        expected.item() + 0.5 * (1 - ccc.mean().item()), rel=1e-5)
    # the CCC term has a gradient of its own (the code's .item() has none)
    g_mse, = torch.autograd.grad(mse, pred)
    g_both, = torch.autograd.grad(both, pred)
    assert (g_both - g_mse).abs().max() > 1e-4
    # masked frames count in neither term
    moved = pred.detach().clone()
    moved[~mask] = 5.0
    assert VAMSELoss(ccc_weight=0.5)(moved, target, mask).item() == \
        pytest.approx(both.item(), rel=1e-6)
    # nothing valid: 0, still connected to the graph
    empty = VAMSELoss(ccc_weight=0.1)(pred, target, torch.zeros(3, 8).bool())
    assert empty.item() == 0 and empty.requires_grad
    # the code's space: (theta, I), from the prediction when not given
    polar = VAMSELoss(space='polar')(pred, target, mask)
    error = torch.stack([
        angular_difference(
            va_to_polar(pred)[..., 0],
            va_to_polar(target)[..., 0]),
        va_to_polar(pred)[..., 1] - va_to_polar(target)[..., 1]
    ], -1)[mask]
    torch.testing.assert_close(polar, error.pow(2).mean())
    with pytest.raises(ValueError, match="'va' or 'polar'"):
        VAMSELoss(space='angle')


def official_polar_loss(pred, target, mask):
    """``Train_MLP.py``'s loss as the spec describes it: MSE on
    ``(theta, I)`` with the plain angle difference, plus ``0.1 * (1 -
    mean CCC)`` taken through ``.item()``."""
    polar, goal = va_to_polar(pred)[mask], va_to_polar(target)[mask]
    mse = (polar - goal).pow(2).mean()
    ccc = concordance_cc(
        pred.reshape(-1, 2), target.reshape(-1, 2), mask.reshape(-1), ddof=1)
    return mse + 0.1 * (1 - ccc.mean().item())


def test_the_codes_loss_is_two_switches_away():
    torch.manual_seed(0)
    pred = (torch.rand(3, 8, 2) * 2 - 1).requires_grad_()
    target = torch.rand(3, 8, 2) * 2 - 1
    target[0, :4] = torch.tensor([-1., 0.05])  # theta near pi ...
    pred.data[0, :4] = torch.tensor([-1., -0.05])  # ... and near -pi
    mask = torch.rand(3, 8) > 0.3
    mask[0, :4] = True
    code = VAMSELoss(
        ccc_weight=0.1, space='polar', ccc_grad=False, angle_error='plain')
    ours = VAMSELoss(ccc_weight=0.1, space='polar')
    expected = official_polar_loss(pred, target, mask)
    got = code(pred, target, mask)
    torch.testing.assert_close(got, expected)
    g_code, = torch.autograd.grad(got, pred)
    g_expected, = torch.autograd.grad(expected, pred)
    torch.testing.assert_close(g_code, g_expected)  # no CCC gradient
    # the defaults: the angle wraps, the CCC term has a gradient
    assert ours(pred, target, mask).item() < got.item() - 1
    g_ours, = torch.autograd.grad(ours(pred, target, mask), pred)
    assert (g_ours - g_code).abs().max() > 1e-3
    with pytest.raises(ValueError, match="'wrapped' or 'plain'"):
        VAMSELoss(angle_error='raw')


def test_head_uses_the_polar_output_for_a_polar_loss():
    torch.manual_seed(0)
    head = MAVENHead(
        in_channels=dict(video=8, audio=8),
        embed_dim=16,
        loss=dict(type='VAMSELoss', space='polar')).eval()
    assert head.loss_module.takes_pred_polar
    assert not VAMSELoss().takes_pred_polar
    x = feats(frames=4, dims=dict(video=8, audio=8))
    batch = samples(2, 4)
    loss = head.loss(x, batch)['loss_va']
    gt = torch.stack([s.gt_va for s in batch])
    mask = torch.stack([s.va_mask for s in batch])
    polar = head.forward_polar(x)
    expected = VAMSELoss(space='polar')(
        to_va(polar), gt, mask, pred_polar=polar)
    torch.testing.assert_close(loss, expected)


# --------------------------------------------------- LoadSequenceFeatures
def write_segments(path, features, intervals):
    np.savez(
        path,
        features=np.asarray(features, np.float32),
        intervals=np.asarray(intervals, np.float64))


def test_load_per_frame_features(tmp_path):
    rows = np.arange(20 * 3, dtype=np.float16).reshape(20, 3)
    np.save(tmp_path / 'v1.npy', rows)
    load = LoadSequenceFeatures(str(tmp_path), 'video', feature_dim=3)
    out = load(
        dict(video_id='v1', num_frames=20, target_frames=[4, 19, -1, -1]))
    np.testing.assert_array_equal(out['video_feats'],
                                  [rows[4], rows[19], [0] * 3, [0] * 3])
    assert out['video_feats'].dtype == np.float32
    np.testing.assert_array_equal(out['video_padding_mask'],
                                  [False, False, True, True])
    assert isinstance(load._files[str(tmp_path / 'v1.npy')][0], np.memmap)
    # an annotation one line longer: the last frame takes the last row
    out = load(dict(video_id='v1', num_frames=21, target_frames=[20]))
    np.testing.assert_array_equal(out['video_feats'], rows[19:])
    assert not out['video_padding_mask'].any()
    with pytest.raises(
            BadSampleError,
            match=r'v1.npy: has 20 rows, the '
            'annotation 22 frames'):
        load(dict(video_id='v1', num_frames=22, target_frames=[0]))
    with pytest.raises(
            BadSampleError, match=r'v2\.np\[yz\]: no video '
            "features for 'v2'"):
        load(dict(video_id='v2', target_frames=[0]))
    with pytest.raises(BadSampleError, match='3-d, expected feature_dim=4'):
        LoadSequenceFeatures(
            str(tmp_path), 'video', feature_dim=4)(
                dict(video_id='v1', target_frames=[0]))
    with pytest.raises(BadSampleError, match='no segments'):
        LoadSequenceFeatures(
            str(tmp_path), 'video', mode='segment', max_tokens=2)(
                dict(video_id='v1', target_frames=[0]))
    # fixed statistics, or the window's own (MAVEN's code); padding stays 0
    out = LoadSequenceFeatures(
        str(tmp_path), 'video', mean=1., std=2.)(
            dict(video_id='v1', target_frames=[4, -1]))
    np.testing.assert_allclose(out['video_feats'],
                               [(rows[4] - 1) / 2, [0] * 3])
    out = LoadSequenceFeatures(
        str(tmp_path), 'video', standardize=True)(
            dict(video_id='v1', target_frames=[4, 5, -1]))
    real = out['video_feats'][:2]
    assert abs(real.mean()) < 1e-6 and real.std() == pytest.approx(1, 1e-4)
    assert not out['video_feats'][2].any()
    with pytest.raises(ValueError, match='mean and std together'):
        LoadSequenceFeatures(str(tmp_path), 'video', mean=1.)
    write_segments(tmp_path / 'v1.npz', np.ones((1, 3)), [[0, 1]])
    with pytest.raises(BadSampleError, match='keep one layout'):
        LoadSequenceFeatures(str(tmp_path), 'video')(
            dict(video_id='v1', target_frames=[0]))
    with pytest.raises(ValueError, match='max_tokens'):
        LoadSequenceFeatures(str(tmp_path), 'text', mode='segment')


def test_load_per_segment_features(tmp_path):
    segments = np.arange(4 * 2, dtype=np.float32).reshape(4, 2) + 1
    # 0-1 s, 1-2.5 s, a gap, 3-4 s, 3.5-6 s (overlapping the one before)
    write_segments(tmp_path / 'vid.npz', segments,
                   [[0, 1], [1, 2.5], [3, 4], [3.5, 6]])
    # frames at 10 fps: 0.0, 0.9, 1.0, 2.6 (gap), 3.6 (first one wins),
    # 6.0 (past the end), padding
    frames = [0, 9, 10, 26, 36, 60, -1]
    per_frame = LoadSequenceFeatures(str(tmp_path), 'text', feature_dim=2)
    # _left/_right annotations read their video's file; fps of the sample
    out = per_frame(dict(video_id='vid_left', fps=10., target_frames=frames))
    np.testing.assert_array_equal(out['text_feats'], [
        segments[0], segments[0], segments[1], [0, 0], segments[2], [0, 0],
        [0, 0]
    ])
    np.testing.assert_array_equal(out['text_padding_mask'],
                                  [0, 0, 0, 1, 0, 1, 1])
    # segment tokens: those overlapping [2.4 s, 3.1 s), then padding
    tokens = LoadSequenceFeatures(
        str(tmp_path), 'text', mode='segment', max_tokens=3, fps=10.)
    out = tokens(dict(video_id='vid', target_frames=[24, 30, -1]))
    np.testing.assert_array_equal(out['text_feats'],
                                  [segments[1], segments[2], [0, 0]])
    np.testing.assert_array_equal(out['text_padding_mask'], [0, 0, 1])
    # more segments than tokens: the largest overlaps, in time order
    out = LoadSequenceFeatures(
        str(tmp_path), 'text', mode='segment', max_tokens=2, fps=10.)(
            dict(video_id='vid', target_frames=[5, 20, 37]))
    np.testing.assert_array_equal(out['text_feats'],
                                  [segments[1], segments[2]])
    # a window without speech: only padding
    out = tokens(dict(video_id='vid', target_frames=[80, 90]))
    assert out['text_padding_mask'].all() and not out['text_feats'].any()
    with pytest.raises(
            BadSampleError,
            match=r'vid\.npz: per-segment '
            'features need the frame rate'):
        per_frame(dict(video_id='vid', target_frames=[0]))
    write_segments(tmp_path / 'bad.npz', segments, [[0, 1]] * 3)
    with pytest.raises(
            BadSampleError,
            match=r'bad\.npz: intervals must be '
            r'\[S, 2\] = \[4, 2\]'):
        per_frame(dict(video_id='bad', fps=10., target_frames=[0]))
    np.savez(tmp_path / 'keys.npz', feats=segments)
    with pytest.raises(
            BadSampleError,
            match=r"keys\.npz: no \['features', "
            "'intervals'\\] array"):
        per_frame(dict(video_id='keys', fps=10., target_frames=[0]))
    write_segments(tmp_path / 'back.npz', segments[:1], [[2, 1]])
    with pytest.raises(BadSampleError, match='start <= end'):
        per_frame(dict(video_id='back', fps=10., target_frames=[0]))


# ---------------------------------------------------------------- configs
def write_affwild2_features(tree: dict, root: str) -> None:
    """Random Swin/HuBERT/RoBERTa-sized features for the GRID tree: one
    .npy per annotation (the video's frame count: a row fewer than the
    annotation of ``3-25-360x288``), one .npz per video, segments covering
    parts of its 3 s."""
    rng = np.random.default_rng(0)
    for folder in ('swin_b', 'hubert', 'roberta'):
        os.makedirs(osp.join(root, folder), exist_ok=True)
    for vid in tree['annotations']:
        rows = min(tree['num_frames'][vid], tree['video_frames'])
        np.save(
            osp.join(root, 'swin_b', f'{vid}.npy'),
            rng.standard_normal((rows, 1024)).astype(np.float16))
    for name in tree['videos']:
        for folder in ('hubert', 'roberta'):
            write_segments(
                osp.join(root, folder, f'{name}.npz'),
                rng.standard_normal((3, 768)),
                [[0, 0.8], [0.8, 1.9], [2.2, 2.9]])


def ci_config(tmp_path, name: str, features: str, **dataset) -> str:
    """``configs/<name>`` with the feature folders under ``features``, a
    one-epoch run in the main process on ``dataset``, dumped to a file."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(dataset)
        for t in loader.dataset.pipeline:
            if t.type == 'LoadSequenceFeatures':
                t.feature_dir = osp.join(features, osp.basename(t.feature_dir))
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    path = str(tmp_path / name.replace('.py', '_ci.py'))
    cfg.dump(path)
    return path


def maven_affwild2_tree(tmp_path) -> tuple:
    """An Aff-Wild2 tree with its three feature streams and the one-epoch
    ``configs/maven_affwild2.py`` child on it (L = 16).

    Returns:
        tuple: The tree (see ``make_affwild2_tree``) and the config path.
    """
    tree = make_affwild2_tree(str(tmp_path / 'aw2'))
    features = osp.join(tree['root'], 'features')
    write_affwild2_features(tree, features)
    config = ci_config(
        tmp_path,
        'maven_affwild2.py',
        features,
        data_root=tree['root'],
        seq_len=16)
    return tree, config


def test_maven_affwild2_three_streams_end_to_end(tmp_path):
    tree, config = maven_affwild2_tree(tmp_path)
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmemo'):
        train = DATASETS.build(cfg.train_dataloader.dataset)
        sample = train[len(train) - 1]  # the last window of a video
    inputs = sample['inputs']
    assert inputs['video'].shape == (16, 1024)
    assert inputs['audio'].shape == inputs['text'].shape == (16, 768)
    data = sample['data_samples']
    frames = data.metainfo['target_frames']
    assert (frames < 0).any() and (frames == 75).any()
    masks = data.padding_masks
    np.testing.assert_array_equal(masks.video.numpy(), frames < 0)
    times = frames / tree['fps']
    silent = (frames < 0) | ((times >= 1.9) & (times < 2.2)) | (times >= 2.9)
    np.testing.assert_array_equal(masks.text.numpy(), silent)

    work_dir = str(tmp_path / 'work')
    log = python_tool(
        'train.py', config, '--work-dir', work_dir, cwd=str(tmp_path)).stdout
    assert 'loss_va' in log
    val = read_val_metrics(work_dir, key='va/ccc_mean')
    assert [m['step'] for m in val] == [1]
    assert val[0]['va/num_frames'] == tree['num_annotated']['2-25-360x288']
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def test_maven_synth_va_trains_through_the_tools(tmp_path):
    root = str(tmp_path / 'synthetic_va')
    with DefaultScope.overwrite_default_scope('mmemo'):
        videos = [
            v for split in ('train', 'val') for v in SyntheticVADataset(
                root, [], size='tiny', nproc=1, split=split).videos
        ]
    features = tmp_path / 'features'
    rng = np.random.default_rng(0)
    for stream in ('video', 'audio'):
        (features / stream).mkdir(parents=True)
        for v in videos:
            np.save(
                features / stream / f"{v['video_id']}.npy",
                rng.standard_normal((v['num_frames'], 128)).astype(np.float16))
    config = ci_config(
        tmp_path,
        'maven_synth_va.py',
        str(features),
        data_root=root,
        size='tiny')
    work_dir = str(tmp_path / 'work')
    python_tool('train.py', config, '--work-dir', work_dir, cwd=str(tmp_path))
    val = read_val_metrics(work_dir, key='va/ccc_mean')
    assert [m['step'] for m in val] == [1]
    assert -1 <= val[0]['va/ccc_mean'] <= 1
