# Copyright (c) mmemo contributors. All rights reserved.
"""CFN-SR: parameter counts, shapes, per-sample attention, causal audio
encoder, Hara weights, inputs and configs."""
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from helpers import REPO, make_ravdess_tree, read_test_metrics, train_then_test
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.dataset import Compose
from test_avtca_configs import ci_config

from mmemo.models import CFNSRHead, MFCCNet, ResNeXt3D
from mmemo.models.backbones.resnext3d import hara_to_mmaction
from mmemo.models.layers import sinusoidal_positions
from mmemo.registry import DATASETS, MODELS

OFFICIAL_PARAMS = 26301417  # models.md §5, the official code at 8 classes
NO_TRANSFORMER_PARAMS = 26051369
NO_BLOCK_PARAMS = 25916072


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg)


def config(name: str) -> Config:
    return Config.fromfile(osp.join(REPO, 'configs', name))


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build(config('cfnsr_ravdess.py').model).eval()


# --------------------------------------------- Hara's 3D ResNeXt, reference
class HaraBottleneck(nn.Module):
    """kenshohara/3D-ResNets-PyTorch ``models/resnext.py``, as MSAF uses."""
    expansion = 2

    def __init__(self, inplanes, planes, cardinality, stride=1, down=None):
        super().__init__()
        mid = cardinality * int(planes / 32)
        self.conv1 = nn.Conv3d(inplanes, mid, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm3d(mid)
        self.conv2 = nn.Conv3d(
            mid, mid, 3, stride, padding=1, groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm3d(mid)
        self.conv3 = nn.Conv3d(mid, planes * 2, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = down

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class HaraResNeXt(nn.Module):
    """Hara's ``ResNeXt`` (shortcut B) up to layer 4, plus its ``fc``."""

    def __init__(self,
                 layers,
                 cardinality=32,
                 num_classes=8,
                 widths=(128, 256, 512, 1024)):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv3d(
            3, 64, 7, stride=(1, 2, 2), padding=(3, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
        for i, (planes, blocks) in enumerate(zip(widths, layers)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or self.inplanes != planes * 2:
                down = nn.Sequential(
                    nn.Conv3d(
                        self.inplanes, planes * 2, 1, stride, bias=False),
                    nn.BatchNorm3d(planes * 2))
            mods = [
                HaraBottleneck(self.inplanes, planes, cardinality, stride,
                               down)
            ]
            self.inplanes = planes * 2
            mods += [
                HaraBottleneck(self.inplanes, planes, cardinality)
                for _ in range(1, blocks)
            ]
            setattr(self, f'layer{i + 1}', nn.Sequential(*mods))
        self.fc = nn.Linear(widths[-1] * 2, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
        return x


# ------------------------------------------------------------------- tests
def test_parameter_count_at_the_ravdess_setting(model):
    assert num_params(model) == OFFICIAL_PARAMS  # exactly the official
    head = model.cls_head
    parts = dict(
        visual=num_params(model.backbone),
        audio=num_params(model.audio_encoder),
        transformer=num_params(head.audio_transformer),
        attention=num_params(head.attention),
        classifier=num_params(head.fc_cls))
    # no unimodal leftovers: ResNeXt-50 without its fc, MFCCNet without one
    assert parts == dict(
        visual=25865664,
        audio=20704,
        transformer=250048,
        attention=135297,  # W_c 131,136 + W_y 4,096 + w 65
        classifier=3712 * 8 + 8)
    assert sum(parts.values()) == OFFICIAL_PARAMS
    # the spec's ablation counts
    encoders = parts['visual'] + parts['audio']
    assert encoders + num_params(
        CFNSRHead(num_classes=8,
                  audio_transformer=False)) == NO_TRANSFORMER_PARAMS
    assert encoders + num_params(CFNSRHead(
        num_classes=8, cross_modal=False)) == NO_BLOCK_PARAMS


def test_resnext50_is_haras_layer_by_layer(model):
    hara = HaraResNeXt((3, 4, 6, 3))
    assert num_params(hara) == 25882056  # with its 8-class fc
    ours = {k: v.shape for k, v in model.backbone.state_dict().items()}
    mapped = {
        hara_to_mmaction(k): v.shape
        for k, v in hara.state_dict().items() if not k.startswith('fc.')
    }
    assert mapped == ours  # every tensor, name and shape
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        assert num_params(getattr(model.backbone,
                                  name)) == num_params(getattr(hara, name))
    assert model.backbone.layer2[0].conv2.conv.groups == 32
    assert model.backbone.layer2[0].conv2.conv.stride == (2, 2, 2)
    assert model.backbone.maxpool.kernel_size == 3
    assert model.backbone.maxpool.stride == (2, 2, 2)


@pytest.mark.parametrize('stem_relu', [True, False])
def test_resnext_computes_haras_function(stem_relu):
    """Hara's weights give Hara's outputs; ``stem_relu=False`` (the CFN-SR
    config's setting) is CFN-SR's video path, which builds a
    ``Sequential`` of Hara's children without ``relu``."""
    torch.manual_seed(0)
    hara = HaraResNeXt((1, 1, 1, 1)).eval()
    ours = ResNeXt3D(stage_blocks=(1, 1, 1, 1), stem_relu=stem_relu)
    ours.load_state_dict({
        hara_to_mmaction(k): v
        for k, v in hara.state_dict().items() if not k.startswith('fc.')
    })
    ours.eval()
    if not stem_relu:
        hara.relu = nn.Identity()  # only the stem uses the network's relu
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.allclose(ours(x), hara(x), atol=1e-5)


def test_the_ravdess_config_is_the_official_function(model):
    assert not model.backbone.conv1.with_activation  # no stem ReLU
    head = model.cls_head
    assert head.alpha_softmax == 'per_slice' and not head.alpha_batch_sum


def test_shapes_through_the_model(model):
    seen = {}

    def record(name):

        def hook(module, args, output):
            seen[name] = tuple(output.shape)

        return hook

    backbone = model.backbone
    for name in ('conv1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
        getattr(backbone, name).register_forward_hook(record(name))
    model.audio_encoder.register_forward_hook(record('audio'))
    model.cls_head.attention.register_forward_hook(
        lambda m, args, out: seen.update(alpha=out[1]))
    inputs = dict(
        video=torch.randn(1, 1, 3, 30, 224, 224),
        audio=torch.randn(1, 1, 1, 212, 13))
    with torch.no_grad():
        scores = model(inputs, mode='tensor', stage='head')
    assert scores.shape == (1, 8)
    assert seen['conv1'] == (1, 64, 30, 112, 112)
    assert seen['maxpool'] == (1, 64, 15, 56, 56)
    assert seen['layer1'] == (1, 256, 15, 56, 56)
    assert seen['layer2'] == (1, 512, 8, 28, 28)
    assert seen['layer3'] == (1, 1024, 4, 14, 14)
    assert seen['layer4'] == (1, 2048, 2, 7, 7)
    assert seen['audio'] == (1, 64, 26)
    # one softmax over the 7 x 7 positions of each of the 2 slices
    assert seen['alpha'].shape == (2, 49)
    assert torch.allclose(seen['alpha'].sum(-1), torch.ones(2))


def test_mfccnet_layouts():
    net = MFCCNet().eval()
    mfcc = torch.randn(2, 13, 212)
    with torch.no_grad():
        out = net(mfcc)
        packed = net(mfcc.transpose(1, 2)[:, None])  # [B, 1, T, F]
    assert out.shape == (2, 64, 26) and torch.equal(out, packed)
    with pytest.raises(ValueError, match='MFCCNet expects'):
        net(torch.randn(2, 10, 212))


def official_msaf_block(head, audio, video):
    """CFN-SR's ``msaf_ravdess.py`` fusion as the spec describes the code,
    on the weights of a ``CFNSRHead``: α by a softmax over the 7x7
    positions of each temporal slice, summed over the batch and applied to
    every sample; V ⊙ α + V, AvgPool3d, the raw audio map, the classifier.
    """
    attn = head.attention
    h = head.audio_transformer(audio.transpose(1, 2))[:, -1]  # [B, 64]
    g = h @ attn.g_proj.weight.T  # [B, 64]
    b, c, t = video.shape[:3]
    positions = video.flatten(3).permute(0, 2, 3, 1)  # [B, t, 49, C]
    content = positions @ attn.x_proj.weight.T + attn.x_proj.bias
    e = torch.tanh(content + g[:, None, None]) @ attn.score.weight.T
    alpha = (e.squeeze(-1) + attn.score.bias).softmax(-1)  # [B, t, 49]
    alpha = alpha.sum(0, keepdim=True).view(1, 1, t, *video.shape[3:])
    pooled = (video * alpha + video).mean(dim=(2, 3, 4))  # [B, C]
    x = torch.cat([pooled, audio.flatten(1)], dim=1)  # [B, 3712]
    return x @ head.fc_cls.weight.T + head.fc_cls.bias


def test_official_alpha_is_one_switch_away():
    """``alpha_batch_sum=True`` computes the code's function (with the
    default per-slice softmax); the default is per sample."""
    torch.manual_seed(0)
    official = CFNSRHead(num_classes=8, alpha_batch_sum=True).eval()
    with torch.no_grad():  # larger scores than at init: differences show
        official.attention.score.weight.mul_(30)
    feats = dict(
        audio=torch.randn(3, 64, 26), video=torch.rand(3, 2048, 2, 7, 7))
    per_sample = CFNSRHead(num_classes=8).eval()
    per_sample.load_state_dict(official.state_dict())
    all_positions = CFNSRHead(
        num_classes=8, alpha_softmax='all_positions').eval()
    all_positions.load_state_dict(official.state_dict())
    with torch.no_grad():
        expected = official_msaf_block(official, feats['audio'],
                                       feats['video'])
        assert torch.allclose(official(feats), expected, atol=1e-5)
        assert (per_sample(feats) - expected).abs().max() > 1e-2
        assert (all_positions(feats) - per_sample(feats)).abs().max() > 1e-3
    with pytest.raises(ValueError, match='per_slice'):
        CFNSRHead(
            num_classes=8, video_format='tokens', alpha_softmax='per_slice')


@pytest.mark.parametrize('alpha_batch_sum', [False, True])
def test_attention_is_per_sample(alpha_batch_sum):
    """The official code sums α over the batch; ours does not: changing one
    sample does not change another's scores (it does with the switch)."""
    torch.manual_seed(0)
    head = CFNSRHead(num_classes=8, alpha_batch_sum=alpha_batch_sum).eval()
    feats = dict(
        audio=torch.randn(3, 64, 26), video=torch.rand(3, 2048, 2, 7, 7))
    alphas = []
    head.attention.register_forward_hook(
        lambda m, args, out: alphas.append(out[1]))
    with torch.no_grad():
        before = head(feats)
        changed = dict(
            audio=feats['audio'].clone(), video=feats['video'].clone())
        changed['audio'][1] = torch.randn(64, 26)
        changed['video'][1] = torch.rand(2048, 2, 7, 7)
        after = head(changed)
    # one softmax per temporal slice: [B·t, 49], each summing to 1
    assert alphas[0].shape == (6, 49)
    assert torch.allclose(alphas[0].sum(-1), torch.ones(6))
    others = torch.allclose(before[[0, 2]], after[[0, 2]], atol=1e-6)
    assert others != alpha_batch_sum
    assert not torch.allclose(before[1], after[1])


def test_residual_option():
    """V' = V ⊙ α + V (the paper) against V ⊙ α (the ablation)."""
    torch.manual_seed(0)
    with_res = CFNSRHead(num_classes=4).eval()
    without = CFNSRHead(num_classes=4, residual=False).eval()
    without.load_state_dict(with_res.state_dict())
    feats = dict(
        audio=torch.randn(2, 64, 26), video=torch.rand(2, 2048, 2, 7, 7))
    with torch.no_grad():
        diff = with_res(feats) - without(feats)
    # the difference is the classifier's video part on mean(V)
    expected = feats['video'].flatten(2).mean(-1) \
        @ with_res.fc_cls.weight[:, :2048].T
    assert torch.allclose(diff, expected, atol=1e-4)
    with pytest.raises(ValueError, match='audio map'):
        with_res(dict(audio=torch.randn(2, 64, 20), video=feats['video']))


def test_video_tokens_are_positions():
    """``video_format='tokens'`` attends over ``[B, P, C]`` tokens (e.g.
    one per frame) exactly as over the positions of a map."""
    torch.manual_seed(0)
    on_map = CFNSRHead(
        num_classes=6, video_channels=128,
        alpha_softmax='all_positions').eval()
    on_tokens = CFNSRHead(
        num_classes=6, video_channels=128, video_format='tokens').eval()
    on_tokens.load_state_dict(on_map.state_dict())
    audio, video = torch.randn(2, 64, 26), torch.rand(2, 128, 2, 2, 2)
    with torch.no_grad():
        expected = on_map(dict(audio=audio, video=video))
        tokens = video.flatten(2).transpose(1, 2)  # [2, 8, 128]
        got = on_tokens(dict(audio=audio, video=tokens))
    assert torch.allclose(got, expected, atol=1e-6)
    with pytest.raises(ValueError, match='video_format'):
        CFNSRHead(num_classes=6, video_format='frames')


def test_audio_encoder_is_causal():
    """Changing a later audio step leaves the earlier outputs alone."""
    torch.manual_seed(0)
    encoder = CFNSRHead(num_classes=8).audio_transformer.eval()
    steps = torch.randn(2, 26, 64)
    later = steps.clone()
    later[:, 20] += 1.
    with torch.no_grad():
        a, b = encoder(steps), encoder(later)
    assert torch.allclose(a[:, :20], b[:, :20], atol=1e-6)
    assert not torch.allclose(a[:, 20:], b[:, 20:])


def test_fairseq_positions_are_mults():
    """MulT's (fairseq's) table: positions from 1, [sin | cos] halves,
    frequencies 10000^(-i / (d/2 - 1)); not the Vaswani table."""
    dim, length = 64, 26
    half = dim // 2
    freq = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
    angle = torch.arange(length + 1)[:, None] * freq[None]
    fairseq = torch.cat([angle.sin(), angle.cos()], dim=1)[1:]  # drop pad 0
    table = sinusoidal_positions(length, dim, style='fairseq')
    assert torch.allclose(table, fairseq, atol=1e-6)
    assert not torch.allclose(table, sinusoidal_positions(length, dim))
    head = CFNSRHead(num_classes=8)
    assert torch.equal(head.audio_transformer[0].table[:length], table)
    with pytest.raises(ValueError, match='style'):
        sinusoidal_positions(4, 8, style='rotary')


def hara_checkpoint(tmp_path):
    """A Hara/MSAF-style file (DataParallel keys under `state_dict`) of a
    narrow ResNeXt (widths / 4, one block per stage)."""
    torch.manual_seed(1)
    hara = HaraResNeXt((1, 1, 1, 1), widths=(32, 64, 128, 256)).eval()
    for m in hara.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm3d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    state = {f'module.{k}': v for k, v in hara.state_dict().items()}
    path = str(tmp_path / 'fold_1_resnext50_best.pth')
    torch.save(dict(epoch=7, arch='resnext-50', state_dict=state), path)
    return hara, path


def test_loads_hara_checkpoints(tmp_path):
    hara, path = hara_checkpoint(tmp_path)
    narrow = dict(stage_blocks=(1, 1, 1, 1), base_channels=32)
    x = torch.randn(1, 3, 8, 32, 32)
    for kwargs in (dict(init_cfg=dict(type='Pretrained', checkpoint=path)),
                   dict(pretrained=path)):
        ours = ResNeXt3D(**narrow, **kwargs)
        ours.init_weights()
        ours.eval()
        with torch.no_grad():
            assert torch.allclose(ours(x), hara(x), atol=1e-5)
    # a truncated file fails (strict), naming the missing keys
    state = torch.load(path, weights_only=True)['state_dict']
    del state['module.layer3.0.bn2.weight']
    torch.save(dict(state_dict=state), path)
    broken = ResNeXt3D(
        **narrow, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(RuntimeError, match='layer3.0.conv2.bn.weight'):
        broken.init_weights()
    missing = ResNeXt3D(
        **narrow,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'no.pth')))
    with pytest.raises(FileNotFoundError, match='never downloads'):
        missing.init_weights()


def test_hara_key_mapping():
    assert hara_to_mmaction('conv1.weight') == 'conv1.conv.weight'
    assert hara_to_mmaction('bn1.running_var') == 'conv1.bn.running_var'
    assert hara_to_mmaction('layer2.3.bn2.bias') == 'layer2.3.conv2.bn.bias'
    assert hara_to_mmaction('layer1.0.downsample.0.weight') == \
        'layer1.0.downsample.conv.weight'
    assert hara_to_mmaction('layer4.0.downsample.1.num_batches_tracked') == \
        'layer4.0.downsample.bn.num_batches_tracked'
    assert hara_to_mmaction('visual.layer1.0.conv3.weight') == \
        'visual.layer1.0.conv3.conv.weight'
    # already in mmaction's layout, or not the network's: unchanged
    for key in ('conv1.conv.weight', 'layer1.0.conv1.bn.bias',
                'layer1.0.downsample.conv.weight', 'fc.weight'):
        assert hara_to_mmaction(key) == key


def test_mfcc_input_is_13_by_212(tmp_path):
    """The config's audio steps on a RAVDESS-style mp4 (48 kHz AAC): 2.45 s
    from 0.5 s, resampled to 44.1 kHz, 13 MFCCs -> 212 frames."""
    ravdess_root = make_ravdess_tree(
        str(tmp_path / 'RAVDESS'), ['01-05-02-02-01-03'])
    cfg = config('cfnsr_ravdess.py')
    audio_steps = ('AVInit', 'LoadAudio', 'AVClipWindow', 'SampleAlignedAudio',
                   'MFCC')
    dataset = DATASETS.build(
        dict(cfg.test_dataloader.dataset, data_root=ravdess_root, pipeline=[]))
    with DefaultScope.overwrite_default_scope('mmemo'):
        pipeline = Compose(
            [t for t in cfg.test_pipeline if t['type'] in audio_steps])
        results = pipeline(dataset.get_data_info(0))
    assert results['audio'].shape == (212, 13)
    start, end = results['audio_window']
    assert start == pytest.approx(0.5) and end == pytest.approx(2.95)


def test_per_frame_augmentation():
    """Each frame gets its own crop and flip (mmaction's are per clip)."""
    from mmemo.datasets.transforms import PerFrame
    torch.manual_seed(0)
    cfg = config('cfnsr_synth.py')
    per_frame = [t for t in cfg.train_pipeline if t['type'] == 'PerFrame']
    with DefaultScope.overwrite_default_scope('mmemo'):
        transform = PerFrame(**{
            k: v
            for k, v in per_frame[0].items() if k != 'type'
        })
    frame = torch.arange(
        128 * 128 * 3, dtype=torch.float32).reshape(128, 128, 3).numpy() % 251
    results = transform(dict(imgs=[frame.astype('uint8')] * 6))
    frames = results['imgs']
    assert results['img_shape'] == (112, 112)
    assert all(f.shape == (112, 112, 3) for f in frames)
    assert len({f.tobytes() for f in frames}) > 1  # drawn per frame


def test_ravdess_protocols(tmp_path):
    """5 folds with validation actors from the training actors (default),
    the paper's best-epoch-on-test setting and the 6-fold protocol, on the
    names of a full release (empty files: only the split is checked)."""
    root = tmp_path / 'RAVDESS'
    for actor in range(1, 25):
        folder = root / f'Actor_{actor:02d}'
        folder.mkdir(parents=True)
        for name in ('01-01-03-01-01-01', '02-01-03-01-01-01'):
            (folder / f'{name}-{actor:02d}.mp4').write_bytes(b'stub')

    def subjects(loader, **override):
        ds = DATASETS.build(
            dict(
                loader.dataset,
                data_root=str(root),
                pipeline=[],
                check_files=False,
                **override))
        return sorted({ds.get_data_info(i)['subject'] for i in range(len(ds))})

    def actors(first, last):
        return list(range(first, last + 1))

    cfg = config('cfnsr_ravdess.py')
    assert cfg.train_dataloader.dataset.folds == [
        actors(4 * k + 1, 4 * k + 4) for k in range(5)
    ]
    assert subjects(cfg.train_dataloader) == actors(5, 20)
    assert subjects(cfg.val_dataloader) == actors(21, 24)
    assert subjects(cfg.test_dataloader) == actors(1, 4)
    # fold 5 tests 17-20; validation stays 21-24, never tested
    assert subjects(cfg.val_dataloader, fold=5) == actors(21, 24)
    assert subjects(cfg.train_dataloader, fold=5) == actors(1, 16)
    # the paper: train on the 20 other actors, select on the test fold
    assert subjects(cfg.train_dataloader, val_subjects=None) == \
        actors(5, 24)
    assert subjects(cfg.val_dataloader, split='test') == actors(1, 4)
    assert cfg.train_dataloader.batch_size == 16
    # the recipe's Adam (in PyTorch's fused kernel: the same update)
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-3, fused=True)
    assert cfg.train_cfg.max_epochs == 70 and not cfg.get('param_scheduler')
    six = config('cfnsr_ravdess_6fold.py')
    assert six.val_dataloader is None
    assert subjects(six.test_dataloader, fold=6) == actors(21, 24)
    assert subjects(six.train_dataloader, fold=6) == actors(1, 20)


def test_synthetic_config_runs_on_the_tiny_set(tmp_path):
    """`configs/cfnsr_synth.py` trains, validates and tests one epoch
    through the tools on the CI-sized synthetic set."""
    root = str(tmp_path / 'synthetic')
    path = ci_config(
        tmp_path,
        'cfnsr_synth.py',
        batch_size=None,
        data_root=root,
        size='tiny',
        folds=[[5]],
        val_subjects=[4])
    _, work_dir, test_dir = train_then_test(
        path, tmp_path, checkpoint='best_emo_war_epoch_1.pth')
    assert osp.isfile(osp.join(work_dir, 'best_emo_war_epoch_1.pth'))
    metrics = read_test_metrics(test_dir)
    # actor 5 of the tiny set: 2 clips of each of the 6 classes
    assert sum(map(sum, metrics['emo/confusion_matrix'])) == 12
    assert 0 <= metrics['emo/war'] <= 1
    assert {'emo/audio/war', 'emo/video/war'} <= set(metrics)
