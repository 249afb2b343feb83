# Copyright (c) mmemo contributors. All rights reserved.
"""JCA/JMT sub-clip encoders: TSAV's R(2+1)D-18 and 1-channel ResNet-18."""
import pytest
import torch
import torch.nn as nn
from mmengine import DefaultScope
from torchvision.models import resnet18
from torchvision.models.video import r2plus1d_18

from mmemo.compat import UnsafeCheckpointError
from mmemo.models import AudioResNet18Encoder, R2Plus1D18Encoder
from mmemo.registry import MODELS

# torchvision's r2plus1d_18 and TSAV's 1-channel resnet18, without fc
R2PLUS1D_18_PARAMS = 31300125
AUDIO_RESNET_18_PARAMS = 11170240
# mmaction's ResNet2Plus1d(depth=18) (its r2plus1d config, no head)
MMACTION_R2PLUS1D_18_PARAMS = 33227745


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def shapes(state_dict: dict) -> dict:
    return {k: tuple(v.shape) for k, v in state_dict.items()}


def tsav_video_model(in_channels: int = 4) -> nn.Module:
    """TSAV's ``VideoModel.r2plus1d``: torchvision's, RGB + mask stem."""
    net = r2plus1d_18(weights=None)
    old = net.stem[0]
    net.stem[0] = nn.Conv3d(
        in_channels,
        45,
        kernel_size=old.kernel_size,
        stride=old.stride,
        padding=old.padding,
        bias=False)
    return net


def tsav_audio_model() -> nn.Module:
    """TSAV's ``AudioModel.resnet``: torchvision's, 1-channel conv1."""
    net = resnet18(weights=None)
    net.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return net


def randomize_bn(net: nn.Module) -> nn.Module:
    # non-trivial running stats, so that a copy is visible in outputs
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)
    return net


@pytest.fixture(scope='module')
def tsav_checkpoint(tmp_path_factory) -> dict:
    """A TSAV-layout file: DataParallel two-stream model, 4-channel stem."""
    torch.manual_seed(0)
    video = randomize_bn(tsav_video_model())
    audio = randomize_bn(tsav_audio_model())
    # TSAV replaces both fc by a parameter-free Dummy; keep a head anyway
    del video.fc, audio.fc
    state_dict = {}
    for prefix, net in (('video_model.r2plus1d.', video),
                        ('audio_model.resnet.', audio)):
        for key, value in net.state_dict().items():
            state_dict[f'module.{prefix}{key}'] = value
    state_dict['module.fc.1.weight'] = torch.randn(17, 1024)
    state_dict['module.fc.1.bias'] = torch.randn(17)
    path = tmp_path_factory.mktemp('tsav') / 'TSAV_Sub4_544k.pth.tar'
    torch.save(dict(epoch=3, state_dict=state_dict), path)
    return dict(path=str(path), video=video, audio=audio)


def test_visual_encoder_is_torchvision_r2plus1d_18():
    encoder = R2Plus1D18Encoder()
    reference = r2plus1d_18(weights=None)
    del reference.fc
    assert num_params(encoder) == R2PLUS1D_18_PARAMS
    assert shapes(encoder.state_dict()) == shapes(reference.state_dict())


def test_mmaction_resnet2plus1d_is_another_network():
    """Why the encoder does not reuse ``mmaction.ResNet2Plus1d``."""
    cfg = dict(
        type='ResNet2Plus1d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        norm_eval=False,
        conv_cfg=dict(type='Conv2plus1d'),
        norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False)
    with DefaultScope.overwrite_default_scope('mmaction'):
        from mmaction.registry import MODELS as MMACTION_MODELS
        mm = MMACTION_MODELS.build(cfg)
    assert num_params(mm) == MMACTION_R2PLUS1D_18_PARAMS
    # hidden width of the stem's (2+1)D pair: 83 there, 45 in torchvision
    assert mm.conv1.conv.conv_s.out_channels == 83
    assert R2Plus1D18Encoder().stem[0].out_channels == 45


def test_audio_encoder_is_tsav_resnet18():
    encoder = AudioResNet18Encoder()
    reference = tsav_audio_model()
    del reference.fc
    assert num_params(encoder) == AUDIO_RESNET_18_PARAMS
    assert shapes(encoder.state_dict()) == shapes(reference.state_dict())


def test_visual_output_shapes():
    """JCA's 8x112x112 sub-clip: a 512x1x7x7 layer-4 map."""
    torch.manual_seed(0)
    encoder = R2Plus1D18Encoder().eval()
    clip = torch.randn(1, 3, 8, 112, 112)
    with torch.no_grad():
        feats = encoder.forward_features(clip)
        assert feats.shape == (1, 512, 1, 7, 7)
        expected = dict(
            max=(feats[:, :, 0].amax(dim=(2, 3)), (1, 512)),
            avg=(feats.mean(dim=(2, 3, 4)), (1, 512)),
            flatten=(feats.flatten(1), (1, 25088)))
        expected[None] = (feats[:, :, 0], (1, 512, 7, 7))
        for pool, (value, shape) in expected.items():
            encoder.pool = pool
            if pool != 'max':
                # the other modes pool the same map: skip recomputing it
                encoder.forward_features = lambda x: feats
            out = encoder(clip)
            assert out.shape == shape, pool
            torch.testing.assert_close(out, value)


def test_audio_output_shape_and_orientation():
    torch.manual_seed(0)
    encoder = AudioResNet18Encoder().eval()
    mel = torch.randn(2, 1, 104, 64)  # [N, 1, T, F], JCA's ~104 frames
    with torch.no_grad():
        out = encoder(mel)
        assert out.shape == (2, 512)
        # freq_first feeds TSAV's [N, 1, F, T] image
        encoder.freq_first = False
        assert torch.equal(out, encoder(mel.transpose(2, 3)))


def test_registry_build_and_small_variant():
    with DefaultScope.overwrite_default_scope('mmemo'):
        video = MODELS.build(
            dict(type='R2Plus1D18Encoder', pool=None, layers=(1, 1, 1, 1)))
        audio = MODELS.build(
            dict(type='AudioResNet18Encoder', layers=(1, 1, 1, 1)))
    assert isinstance(video, R2Plus1D18Encoder)
    assert num_params(video) < R2PLUS1D_18_PARAMS // 2
    assert num_params(audio) < AUDIO_RESNET_18_PARAMS // 2
    with torch.no_grad():
        assert video.eval()(torch.randn(1, 3, 8, 32,
                                        32)).shape == (1, 512, 2, 2)
        assert audio.eval()(torch.randn(1, 1, 20, 64)).shape == (1, 512)


def test_eval_mode_is_deterministic():
    video = R2Plus1D18Encoder(layers=(1, 1, 1, 1)).eval()
    audio = AudioResNet18Encoder().eval()
    clip, mel = torch.randn(2, 3, 8, 32, 32), torch.randn(2, 1, 104, 64)
    with torch.no_grad():
        assert torch.equal(video(clip), video(clip))
        assert torch.equal(audio(mel), audio(mel))


def test_load_tsav_checkpoint(tsav_checkpoint):
    video = R2Plus1D18Encoder(
        init_cfg=dict(type='Pretrained', checkpoint=tsav_checkpoint['path']))
    audio = AudioResNet18Encoder(
        init_cfg=dict(type='Pretrained', checkpoint=tsav_checkpoint['path']))
    video.init_weights()
    audio.init_weights()
    loaded = video.state_dict()
    expected = tsav_checkpoint['video'].state_dict()
    assert set(loaded) == set(expected)
    stem = expected['stem.0.weight']
    assert stem.shape[1] == 4 and loaded['stem.0.weight'].shape[1] == 3
    # RGB kept, the 4th (mask) channel dropped
    assert torch.equal(loaded['stem.0.weight'], stem[:, :3])
    for key in expected:
        if key != 'stem.0.weight':
            assert torch.equal(loaded[key], expected[key]), key
    expected = tsav_checkpoint['audio'].state_dict()
    assert set(audio.state_dict()) == set(expected)
    for key, value in audio.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_load_tsav_checkpoint_with_explicit_prefix(tsav_checkpoint):
    cfg = dict(type='Pretrained', checkpoint=tsav_checkpoint['path'])
    expected = tsav_checkpoint['video'].state_dict()['layer4.1.conv2.1.bias']
    # with or without the DataParallel `module.`
    for prefix in ('video_model.r2plus1d.', 'module.video_model.r2plus1d.'):
        video = R2Plus1D18Encoder(init_cfg=dict(cfg, prefix=prefix))
        video.init_weights()
        assert torch.equal(video.layer4[1].conv2[1].bias, expected)
    # the audio stream is not where the video prefix points
    audio = AudioResNet18Encoder(
        init_cfg=dict(cfg, prefix='video_model.r2plus1d.'))
    with pytest.raises(KeyError, match='conv1.weight'):
        audio.init_weights()


def test_load_tsav_into_four_channel_stem(tsav_checkpoint):
    video = R2Plus1D18Encoder(
        in_channels=4,
        init_cfg=dict(type='Pretrained', checkpoint=tsav_checkpoint['path']))
    video.init_weights()
    assert torch.equal(video.stem[0].weight,
                       tsav_checkpoint['video'].stem[0].weight)


def test_load_torchvision_checkpoints(tmp_path):
    """3-channel Kinetics / ImageNet torchvision state dicts (with fc)."""
    torch.manual_seed(0)
    reference = randomize_bn(r2plus1d_18(weights=None)).eval()
    torch.save(reference.state_dict(), tmp_path / 'r2plus1d_18.pth')
    video = R2Plus1D18Encoder(
        pool='avg',
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'r2plus1d_18.pth')))
    video.init_weights()
    reference.fc = nn.Identity()
    clip = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        # layer for layer torchvision's network, up to its classifier
        torch.testing.assert_close(video.eval()(clip), reference(clip))

    imagenet = resnet18(weights=None)
    torch.save(imagenet.state_dict(), tmp_path / 'resnet18.pth')
    audio = AudioResNet18Encoder(
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'resnet18.pth')))
    audio.init_weights()
    # TSAV's ImageNet init: conv1 averaged over RGB
    assert torch.equal(audio.conv1.weight,
                       imagenet.conv1.weight.mean(dim=1, keepdim=True))
    assert torch.equal(audio.layer3[0].conv1.weight,
                       imagenet.layer3[0].conv1.weight)


def test_missing_checkpoint_names_the_file(tmp_path):
    path = str(tmp_path / 'TSAV_Sub4_544k.pth.tar')
    video = R2Plus1D18Encoder(
        init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(FileNotFoundError, match='TSAV_Sub4_544k.pth.tar'):
        video.init_weights()


def test_checkpoints_are_loaded_weights_only(tmp_path):
    path = tmp_path / 'unsafe.pth'
    torch.save(dict(state_dict={}, extra=nn.ReLU()), path)
    audio = AudioResNet18Encoder(
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(UnsafeCheckpointError):
        audio.init_weights()
