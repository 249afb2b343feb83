# Copyright (c) mmemo contributors. All rights reserved.
"""AVT-CA: architecture facts, the recognizer's modes, MMAction2 backbones."""
import os.path as osp

import pytest
import torch
from helpers import REPO
from mmengine import DefaultScope
from mmengine.config import Config

from mmemo.models import AVRecognizer, AVTCAHead, EfficientFace
from mmemo.models.recognizers import modality_dropout
from mmemo.registry import MODELS

OFFICIAL_PARAMS = 2004462  # models.md §1, the official code at 8 classes
# two nn.Linear(128, 8) the official code builds but never uses
UNUSED_OFFICIAL_PARAMS = 2 * (128 * 8 + 8)


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg)


def avtca_cfg(num_classes=8, **head):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avtca_ravdess.py'))
    model = cfg.model
    model.fusion_head.num_classes = num_classes
    model.fusion_head.update(head)
    return model


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_at_the_ravdess_setting():
    model = build(avtca_cfg())
    total = num_params(model)
    assert abs(total - OFFICIAL_PARAMS) / OFFICIAL_PARAMS < 0.005
    # = the official total minus its two unused classifiers (2,064) and
    # 20 parameters the spec's total holds beyond the parts it lists
    assert total == 2002398
    head = model.cls_head
    # the parts the spec measured on the official code
    assert num_params(head.av1) == 115840  # 0.116M
    assert num_params(head.va1) == 41728  # 0.042M
    assert num_params(head.final) == 66048  # 0.066M (nn.MHA(128, 8))
    assert num_params(head.fc_cls) == 256 * 8 + 8
    audio_cnn = num_params(head.audio_stage1) + num_params(head.audio_stage2)
    assert audio_cnn + 128 * 8 + 8 == 225864  # 0.226M with its classifier
    visual = num_params(model.backbone) + num_params(
        head.video_stage1) + num_params(head.video_stage2)
    assert visual + 128 * 8 + 8 == 1552926  # 1.553M with its classifier


def test_shapes_through_the_fusion():
    head = AVTCAHead(num_classes=8).eval()
    seen = {}

    def record(name):

        def hook(module, inputs, output):  # returns None: output unchanged
            seen[name] = output.shape

        return hook

    for name in ('audio_stage1', 'video_stage1', 'av1', 'va1', 'audio_stage2',
                 'video_stage2'):
        getattr(head, name).register_forward_hook(record(name))
    frames = EfficientFace().eval()(torch.randn(2, 3, 15, 224, 224))
    assert frames.shape == (2, 15, 1024)  # 1024-d per frame
    scores = head(dict(audio=torch.randn(2, 156, 10), video=frames))
    assert scores.shape == (2, 8)
    assert seen['audio_stage1'] == (2, 128, 150)  # 156 -> 150 MFCC frames
    assert seen['video_stage1'] == (2, 64, 15)
    assert seen['av1'] == (2, 150, 128)  # audio tokens attend to video
    assert seen['va1'] == (2, 15, 64)
    assert seen['audio_stage2'] == (2, 128, 144)
    assert seen['video_stage2'] == (2, 128, 15)


def official_attention_block(block, q, kv):
    """The official ``AttentionBlock`` as the spec describes it (models.md
    §1): pre-LN q and kv (``nn.LayerNorm`` default eps), a fused kv
    Linear, softmax attention, projection, ``x + MLP(LN(x))``; no
    residual around the attention, no attention dropout."""
    ln = torch.nn.functional.layer_norm
    q_in = ln(q, q.shape[-1:], block.norm_q.weight, block.norm_q.bias)
    kv_in = ln(kv, kv.shape[-1:], block.norm_kv.weight, block.norm_kv.bias)
    fused_kv = torch.cat([block.to_k.weight, block.to_v.weight])  # attn.kv
    k, v = (kv_in @ fused_kv.T).chunk(2, dim=-1)
    query = q_in @ block.to_q.weight.T
    h = block.num_heads

    def heads(x):
        return x.view(x.shape[0], x.shape[1], h, -1).transpose(1, 2)

    scores = heads(query) @ heads(k).transpose(-2, -1)
    weights = (scores / heads(query).shape[-1]**0.5).softmax(-1)
    x = (weights @ heads(v)).transpose(1, 2).flatten(2)
    x = block.proj(x)
    return x + block.ffn(x)


def official_fusion(head, audio, video):
    """``forward_feature_3`` with ``fusion='it'`` on a head's weights:
    the final ``nn.MultiheadAttention(128, 8)`` (in_proj = q, k, v rows)
    self-attends each stream."""
    final = torch.nn.MultiheadAttention(128, 8, batch_first=True).eval()
    f = head.final
    final.in_proj_weight.data = torch.cat(
        [f.to_q.weight, f.to_k.weight, f.to_v.weight])
    final.in_proj_bias.data = torch.cat(
        [f.to_q.bias, f.to_k.bias, f.to_v.bias])
    final.out_proj.load_state_dict(f.proj.state_dict())
    a = head.audio_stage1(audio.transpose(1, 2)).transpose(1, 2)
    v = head.video_stage1(video.transpose(1, 2)).transpose(1, 2)
    h_av = official_attention_block(head.av1, a, v)
    h_va = official_attention_block(head.va1, v, a)
    a = head.audio_stage2((a + h_av).transpose(1, 2)).transpose(1, 2)
    v = head.video_stage2((v + h_va).transpose(1, 2)).transpose(1, 2)
    a = final(a, a, a, need_weights=False)[0].mean(1)
    v = final(v, v, v, need_weights=False)[0].mean(1)
    return head.fc_cls(torch.cat([a, v], dim=1))


def test_defaults_compute_the_official_function():
    torch.manual_seed(0)
    head = AVTCAHead(num_classes=8).eval()
    assert head.av1.norm_q.eps == head.va1.norm_kv.eps == 1e-5
    assert head.av1.attn_drop == 0 and head.final_attention == 'self'
    with torch.no_grad():  # weights away from init: differences show
        for param in head.parameters():
            param.add_(torch.randn_like(param) * 0.1)
        feats = dict(
            audio=torch.randn(2, 156, 10) * 20, video=torch.randn(2, 15, 1024))
        expected = official_fusion(head, feats['audio'], feats['video'])
        assert torch.allclose(head(feats), expected, rtol=1e-5, atol=1e-4)
        # the paper's cross reading is one switch away, and differs
        paper = AVTCAHead(num_classes=8, final_attention='cross').eval()
        paper.load_state_dict(head.state_dict())
        assert (paper(feats) - expected).abs().max() > 1e-2
    # the RAVDESS and CREMA-D configs keep the defaults
    for name in ('avtca_ravdess.py', 'avtca_cremad.py'):
        cfg = Config.fromfile(osp.join(REPO, 'configs', name))
        head_cfg = cfg.model.fusion_head
        assert head_cfg.final_attention == 'self', name
        assert head_cfg.get('attn_drop', 0) == 0, name
        assert head_cfg.get('norm_eps', 1e-5) == 1e-5, name


def test_final_attention_variants():
    torch.manual_seed(0)
    cross = AVTCAHead(num_classes=4, final_attention='cross').eval()
    own = AVTCAHead(num_classes=4, final_attention='self').eval()
    own.load_state_dict(cross.state_dict())  # same parameters
    feats = dict(audio=torch.randn(2, 156, 10), video=torch.randn(2, 15, 1024))
    assert not torch.allclose(cross(feats), own(feats))
    with pytest.raises(AssertionError):
        AVTCAHead(num_classes=4, final_attention='both')


def test_efficientface_loads_official_checkpoints(tmp_path):
    """The AffectNet checkpoint layout: DataParallel's `module.` prefix and
    a classifier; loaded through init_cfg with weights_only=True."""
    torch.manual_seed(1)
    source = EfficientFace()
    state = {f'module.{k}': v for k, v in source.state_dict().items()}
    state['module.fc.weight'] = torch.randn(7, 1024)
    path = str(tmp_path / 'EfficientFace_Trained_on_AffectNet7.pth.tar')
    torch.save(dict(state_dict=state, epoch=30), path)
    model = EfficientFace(init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def fake_batch(num=2, frames=15, size=64, mfcc=156):
    from mmaction.structures import ActionDataSample
    inputs = dict(
        video=[torch.rand(1, 3, frames, size, size) * 255 for _ in range(num)],
        audio=[torch.randn(1, 1, mfcc, 10) for _ in range(num)])
    samples = []
    for i in range(num):
        sample = ActionDataSample()
        sample.set_gt_label(i % 3)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_recognizer_modes():
    model = build(avtca_cfg(num_classes=3))
    data = model.data_preprocessor(fake_batch(), training=True)
    losses = model(**data, mode='loss')
    assert losses['loss_cls'].requires_grad and torch.isfinite(
        losses['loss_cls'])
    model.eval()
    data = model.data_preprocessor(fake_batch(), training=False)
    with torch.no_grad():
        tokens = model(data['inputs'], mode='tensor')
        scores = model(data['inputs'], mode='tensor', stage='head')
        predictions = model(**data, mode='predict')
    assert tokens['video'].shape == (2, 15, 1024)
    assert tokens['audio'].shape == (2, 156, 10)
    assert scores.shape == (2, 3)
    score = predictions[0].pred_score
    assert set(score) == {'fusion', 'audio', 'video'}
    assert torch.allclose(score['fusion'].sum(), torch.tensor(1.))
    assert predictions[0].pred_label.item() == score['fusion'].argmax()
    model.test_cfg = None
    with torch.no_grad():
        plain = model(**data, mode='predict')[0].pred_score
    assert isinstance(plain, torch.Tensor) and plain.shape == (3, )


def test_channels_last_is_the_same_function():
    """``channels_last`` (the RAVDESS / CREMA-D configs) changes only the
    layout of the convolution weights: the same loss, gradients and scores
    up to float rounding, and checkpoints load either way."""
    from mmemo.models.utils import to_channels_last
    torch.manual_seed(0)
    fast = build(avtca_cfg(num_classes=3))
    fast.init_weights()
    plain = build(dict(avtca_cfg(num_classes=3), channels_last=False))
    plain.load_state_dict(fast.state_dict())
    convs = [name for name, p in fast.named_parameters() if p.dim() == 4]
    assert fast.channels_last and len(convs) > 50
    for name in convs:
        fast_w, plain_w = fast.get_parameter(name), plain.get_parameter(name)
        assert fast_w.is_contiguous(memory_format=torch.channels_last)
        assert plain_w.is_contiguous()
        if fast_w.shape[1] > 1 and fast_w.shape[2:] != (1, 1):
            assert not fast_w.is_contiguous(), name  # really another layout
        assert torch.equal(fast_w, plain_w)
    # The same loss and gradients, with the config's 'softhard' modality
    # dropout, compared in float64: in float32 the batch-norm statistics of
    # the dropout's zeroed and noise copies make the first convolutions'
    # gradients ill-conditioned (plain float32 is already ~3 % from float64
    # there), so float32 cannot tell a layout bug from rounding.
    data = fast.data_preprocessor(fake_batch(), training=True)
    inputs = {key: value.double() for key, value in data['inputs'].items()}
    data = dict(data, inputs=inputs)
    grads = []
    for model in (fast.double(), plain.double()):
        torch.manual_seed(1)  # the same modality dropout and dropout masks
        model(**data, mode='loss')['loss_cls'].backward()
        grads.append([model.get_parameter(name).grad for name in convs])
    assert fast.get_parameter(convs[0]).is_contiguous(
        memory_format=torch.channels_last)  # .double() kept the layout
    for name, fast_g, plain_g in zip(convs, *grads):
        torch.testing.assert_close(fast_g, plain_g, rtol=1e-6, atol=1e-10)
    fast.float(), plain.float()
    # a plain checkpoint loads into the channels-last model, layout kept
    fast.load_state_dict(plain.state_dict())
    assert fast.get_parameter(convs[5]).is_contiguous(
        memory_format=torch.channels_last)
    fast.eval(), plain.eval()
    data = fast.data_preprocessor(fake_batch(), training=False)
    with torch.no_grad():
        scores = [
            m(**data, mode='predict')[0].pred_score for m in (fast, plain)
        ]
    for key in ('fusion', 'audio', 'video'):
        torch.testing.assert_close(scores[0][key], scores[1][key])
    # 3-D convolution weights take the 5-D layout; the Parameters stay
    layers = torch.nn.Sequential(
        torch.nn.Conv3d(3, 4, 3), torch.nn.Conv2d(4, 4, 3),
        torch.nn.Linear(4, 2))
    params = list(layers.parameters())
    to_channels_last(layers)
    assert all(a is b for a, b in zip(params, layers.parameters()))
    assert layers[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert not layers[0].weight.is_contiguous()
    assert layers[1].weight.is_contiguous(memory_format=torch.channels_last)
    assert layers[2].weight.is_contiguous()


@pytest.mark.parametrize('level', ['input', 'tokens'])
def test_modality_level(level):
    """Where a modality is dropped in training and zeroed for the
    per-modality scores: the encoders' inputs or their output tokens."""
    torch.manual_seed(0)
    model = build(avtca_cfg(num_classes=3))
    model.train_cfg = dict(modality_dropout='softhard', modality_level=level)
    model.test_cfg = dict(modality_scores=True, modality_level=level)
    seen = []
    model.cls_head.register_forward_hook(
        lambda m, args, out: seen.append(args[0]['video'].shape[0]))
    counted = []
    model.backbone.register_forward_hook(
        lambda m, args, out: counted.append(args[0].shape[0]))
    data = model.data_preprocessor(fake_batch(), training=True)
    model(**data, mode='loss')
    # the head always sees the x4 batch; the encoder only at input level
    assert seen == [8] and counted == [8 if level == 'input' else 2]
    model.eval()
    data = model.data_preprocessor(fake_batch(), training=False)
    with torch.no_grad():
        score = model(**data, mode='predict')[0].pred_score
        feats = model(data['inputs'], mode='tensor')
        if level == 'tokens':
            alone = dict(feats, video=torch.zeros_like(feats['video']))
        else:
            zeroed = dict(
                data['inputs'],
                video=torch.zeros_like(data['inputs']['video']))
            alone = model(zeroed, mode='tensor')
        expected = model.cls_head(alone)[0].softmax(-1)
    assert torch.allclose(score['audio'], expected, atol=1e-6)
    assert not torch.equal(score['audio'], score['fusion'])
    model.test_cfg = dict(modality_scores=True, modality_level='frames')
    with pytest.raises(AssertionError, match='modality_level'):
        model(**data, mode='predict')


def test_modality_dropout():
    audio, video = torch.ones(3, 1, 1, 4, 2), torch.ones(3, 1, 3, 2, 4, 4)
    samples = ['a', 'b', 'c']
    torch.manual_seed(0)
    inputs, out_samples = modality_dropout(
        dict(audio=audio, video=video), samples, 'softhard')
    a, v = inputs['audio'], inputs['video']
    assert a.shape[0] == v.shape[0] == 12 and out_samples == samples * 4
    alpha = a[3:6].flatten(1)[:, 0]
    assert torch.allclose(v[3:6].flatten(1)[:, 0], 1 - alpha)  # α, 1 - α
    assert a[6:9].abs().sum() == 0 and v[9:12].abs().sum() == 0
    assert torch.equal(a[:3], audio) and torch.equal(v[6:9], video)
    noisy, _ = modality_dropout(
        dict(audio=audio, video=video), samples, 'noise')
    assert noisy['audio'].shape[0] == 9
    assert not torch.equal(noisy['audio'][3:6], audio)
    assert torch.equal(noisy['video'][3:6], video)
    with pytest.raises(ValueError):
        modality_dropout(dict(audio=audio, video=video), samples, 'drop')


MMACTION_ENCODERS = {
    'x3d': (Config.fromfile(osp.join(REPO, 'configs',
                                     'avtca_x3d_cremad.py')).model, None),
    'r2plus1d': (
        dict(
            type='TokenEncoder',
            backbone=dict(
                type='mmaction.ResNet2Plus1d',
                depth=18,
                pretrained=None,
                pretrained2d=False,
                norm_eval=False,
                conv_cfg=dict(type='Conv2plus1d'),  # found in mmaction's scope
                norm_cfg=dict(type='SyncBN', requires_grad=True, eps=1e-3),
                act_cfg=dict(type='ReLU'),
                conv1_kernel=(3, 7, 7),
                conv1_stride_t=1,
                pool1_stride_t=1,
                inflate=(1, 1, 1, 1),
                spatial_strides=(1, 2, 2, 2),
                temporal_strides=(1, 2, 2, 2),
                zero_init_residual=False),
            feat_channels=512,
            num_tokens=15),
        None),
    'resnet2d_per_frame': (dict(
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.ResNet', depth=18, pretrained=None,
            norm_eval=False),
        feat_channels=512,
        per_frame=True), None),
    # a clip-level backbone: one token (its class token) per clip
    'timesformer': (dict(
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.TimeSformer',
            num_frames=15,
            img_size=64,
            patch_size=16,
            embed_dims=96,
            num_heads=4,
            num_transformer_layers=2),
        feat_channels=96), None),
    'slowonly+resnet_audio': (dict(
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.ResNet3dSlowOnly',
            depth=18,
            pretrained=None,
            in_channels=3,
            lateral=False,
            out_indices=(3, ),
            conv1_kernel=(1, 7, 7),
            conv1_stride_t=1,
            pool1_stride_t=1,
            inflate=(0, 0, 1, 1),
            norm_eval=False),
        feat_channels=512,
        out_channels=256),
                              dict(
                                  type='TokenEncoder',
                                  backbone=dict(
                                      type='mmaction.ResNetAudio',
                                      depth=50,
                                      pretrained=None,
                                      in_channels=1,
                                      norm_eval=False),
                                  feat_channels=1024,
                                  out_channels=10)),
}


@pytest.mark.parametrize('name', sorted(MMACTION_ENCODERS))
def test_mmaction_backbones_as_encoders(name):
    encoder, audio_encoder = MMACTION_ENCODERS[name]
    cfg = avtca_cfg(num_classes=3)
    if name == 'x3d':
        encoder.visual_encoder.init_cfg = None  # no download in tests
        cfg.visual_encoder = encoder.visual_encoder
        cfg.fusion_head.video_in_channels = 432
        cfg.data_preprocessor = encoder.data_preprocessor
    else:
        cfg.visual_encoder = encoder
        cfg.fusion_head.video_in_channels = encoder.get(
            'out_channels') or encoder['feat_channels']
    if audio_encoder:
        cfg.audio_encoder = audio_encoder
    if name == 'r2plus1d':
        # SyncBN needs a process group; this test runs in one process
        cfg.visual_encoder.backbone.norm_cfg = dict(
            type='BN3d', requires_grad=True)
    cfg.train_cfg = dict(modality_dropout='softhard')
    model = build(cfg)
    model.init_weights()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    losses = model.train_step(fake_batch(size=64), OptimWrapper(optim))
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(fake_batch(size=64), training=False)
        tokens = model(data['inputs'], mode='tensor')
    assert tokens['video'].shape[0] == 2 and tokens['video'].ndim == 3
    if name == 'timesformer':
        assert tokens['video'].shape == (2, 1, 96)


def test_token_encoder_loads_model_zoo_weights(tmp_path):
    """init_cfg=Pretrained with prefix='backbone.', as the X3D config uses
    for MMAction2's Kinetics checkpoint (a local file here)."""
    from mmemo.models import TokenEncoder
    backbone = dict(type='mmaction.X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2)
    torch.manual_seed(2)
    zoo = build(dict(type='TokenEncoder', backbone=backbone))
    state = {f'backbone.{k}': v for k, v in zoo.backbone.state_dict().items()}
    state['cls_head.fc2.weight'] = torch.randn(400, 2048)
    path = str(tmp_path / 'x3d_kinetics.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    encoder = build(
        dict(
            type='TokenEncoder',
            backbone=backbone,
            init_cfg=dict(
                type='Pretrained', checkpoint=path, prefix='backbone.')))
    assert isinstance(encoder, TokenEncoder)
    encoder.init_weights()
    for key, value in zoo.backbone.state_dict().items():
        assert torch.equal(encoder.backbone.state_dict()[key], value), key


def test_avtca_recognizer_type():
    assert isinstance(build(avtca_cfg()), AVRecognizer)


@pytest.mark.parametrize('pool', ['avg', 'max'])
def test_token_encoder_spatial_pooling(pool):
    """The synthetic config's encoder: a per-frame 2-stage ResNet-18 whose
    feature maps are averaged or max-pooled into one token per frame."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avtca_synth.py'))
    encoder = build(dict(cfg.model.visual_encoder, spatial_pool=pool)).eval()
    clips = torch.rand(2, 3, 4, 32, 32)
    with torch.no_grad():
        tokens = encoder(clips)
        maps = encoder.backbone(clips.transpose(1, 2).flatten(0, 1))
    assert tokens.shape == (2, 4, 128) and maps.shape == (8, 128, 4, 4)
    reduce = torch.mean if pool == 'avg' else torch.amax
    assert torch.allclose(tokens, reduce(maps, dim=(2, 3)).view(2, 4, 128))
    with pytest.raises(AssertionError):
        build(
            dict(
                type='TokenEncoder',
                backbone=dict(type='EfficientFace'),
                spatial_pool='median'))
