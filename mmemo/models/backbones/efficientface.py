# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torchvision.models.shufflenetv2 import InvertedResidual

from mmemo.registry import MODELS


def _depthwise(inp: int, out: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(inp, out, 3, stride, 1, bias=False, groups=inp)


class LocalFeatureExtractor(nn.Module):
    """EfficientFace's local branch: the four quadrants, each through two
    depthwise 3×3 convolutions, re-assembled.

    The official code slices fixed 28×28 patches of the 56×56 stem output
    (224×224 input); here the quadrants are half the map, which is the same
    at 224 and also works for other input sizes.

    Args:
        inplanes (int): Input channels.
        planes (int): Output channels (a multiple of ``inplanes``).
    """

    def __init__(self, inplanes: int, planes: int) -> None:
        super().__init__()
        for i in range(1, 5):
            self.add_module(f'conv{i}_1', _depthwise(inplanes, planes, 2))
            self.add_module(f'bn{i}_1', nn.BatchNorm2d(planes))
            self.add_module(f'conv{i}_2', _depthwise(planes, planes, 1))
            self.add_module(f'bn{i}_2', nn.BatchNorm2d(planes))

    def _branch(self, i: int, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(getattr(self, f'bn{i}_1')(getattr(self, f'conv{i}_1')(x)))
        return F.relu(
            getattr(self, f'bn{i}_2')(getattr(self, f'conv{i}_2')(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2] // 2, x.shape[3] // 2
        top = torch.cat([
            self._branch(1, x[:, :, :h, :w]),
            self._branch(2, x[:, :, h:2 * h, :w])
        ],
                        dim=2)
        bottom = torch.cat([
            self._branch(3, x[:, :, :h, w:2 * w]),
            self._branch(4, x[:, :, h:2 * h, w:2 * w])
        ],
                           dim=2)
        return torch.cat([top, bottom], dim=3)  # [N, planes, H/2, W/2]


class ChannelGate(nn.Module):
    """Channel attention of the Modulator (global pool → MLP with BN)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        self.gate_c = nn.Sequential()
        self.gate_c.add_module('flatten', nn.Flatten())
        self.gate_c.add_module('gate_c_fc_0', nn.Linear(channels, hidden))
        self.gate_c.add_module('gate_c_bn_1', nn.BatchNorm1d(hidden))
        self.gate_c.add_module('gate_c_relu_1', nn.ReLU())
        self.gate_c.add_module('gate_c_fc_final', nn.Linear(hidden, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(x, 1)  # [N, C, 1, 1]
        return self.gate_c(pooled)[:, :, None, None].expand_as(x)


class SpatialGate(nn.Module):
    """Spatial attention of the Modulator (1×1 reduce, two dilated 3×3)."""

    def __init__(self,
                 channels: int,
                 reduction: int = 16,
                 dilation: int = 4) -> None:
        super().__init__()
        hidden = channels // reduction
        self.gate_s = nn.Sequential()
        self.gate_s.add_module('gate_s_conv_reduce0',
                               nn.Conv2d(channels, hidden, 1))
        self.gate_s.add_module('gate_s_bn_reduce0', nn.BatchNorm2d(hidden))
        self.gate_s.add_module('gate_s_relu_reduce0', nn.ReLU())
        for i in range(2):
            self.gate_s.add_module(
                f'gate_s_conv_di_{i}',
                nn.Conv2d(
                    hidden, hidden, 3, padding=dilation, dilation=dilation))
            self.gate_s.add_module(f'gate_s_bn_di_{i}', nn.BatchNorm2d(hidden))
            self.gate_s.add_module(f'gate_s_relu_di_{i}', nn.ReLU())
        self.gate_s.add_module('gate_s_conv_final', nn.Conv2d(hidden, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate_s(x).expand_as(x)


class Modulator(nn.Module):
    """EfficientFace's modulator: ``x * sigmoid(channel(x) * spatial(x))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channel_att = ChannelGate(channels)
        self.spatial_att = SpatialGate(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.channel_att(x) * self.spatial_att(x))


@MODELS.register_module()
class EfficientFace(BaseModule):
    """EfficientFace, applied to every frame of a clip.

    Zhao, Liu & Wang, "Robust Lightweight Facial Expression Recognition
    Network with Label Distribution Training", AAAI 2021
    (github.com/zengqunzhao/EfficientFace): a ShuffleNet-V2 body (stages
    ``[4, 8, 4]``, channels ``[29, 116, 232, 464, 1024]``) whose stage-2
    output is gated by a :class:`Modulator` (channel × spatial attention)
    and added to a :class:`LocalFeatureExtractor` over the stem output, then
    a 1×1 conv to 1024 channels and global average pooling. AVT-CA uses it
    as its visual backbone (1024-d per frame). Layer names follow the
    official code, so its AffectNet checkpoint loads through
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` (the
    ``module.`` prefix of DataParallel checkpoints is stripped; the
    classifier is not part of this backbone).

    Args:
        stages_repeats (sequence of int): Blocks per stage.
            Defaults to ``(4, 8, 4)``.
        stages_out_channels (sequence of int): Stem, stage 2-4 and final
            channels. Defaults to ``(29, 116, 232, 464, 1024)``.
        init_cfg (dict, optional): Initialisation (e.g. ``Pretrained``).
    """

    def __init__(self,
                 stages_repeats: Sequence[int] = (4, 8, 4),
                 stages_out_channels: Sequence[int] = (29, 116, 232, 464,
                                                       1024),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = list(stages_out_channels)
        self.out_channels = channels[-1]
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, channels[0], 3, 2, 1, bias=False),
            nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inp = channels[0]
        for name, repeats, out in zip(('stage2', 'stage3', 'stage4'),
                                      stages_repeats, channels[1:4]):
            blocks = [InvertedResidual(inp, out, 2)]
            blocks += [
                InvertedResidual(out, out, 1) for _ in range(repeats - 1)
            ]
            setattr(self, name, nn.Sequential(*blocks))
            inp = out
        self.local = LocalFeatureExtractor(channels[0], channels[1])
        self.modulator = Modulator(channels[1])
        self.conv5 = nn.Sequential(
            nn.Conv2d(inp, channels[-1], 1, 1, 0, bias=False),
            nn.BatchNorm2d(channels[-1]), nn.ReLU(inplace=True))

    def forward_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Features of single images ``[N, 3, H, W]`` → ``[N, 1024]``."""
        x = self.maxpool(self.conv1(x))  # [N, 29, H/4, W/4]
        x = self.modulator(self.stage2(x)) + self.local(x)  # [N, 116, H/8]
        x = self.stage4(self.stage3(x))  # [N, 464, H/32, W/32]
        return self.conv5(x).mean(dim=(2, 3))  # [N, 1024]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode every frame of a clip.

        Args:
            x (Tensor): ``[B, 3, T, H, W]`` clips (or ``[N, 3, H, W]``
                images).

        Returns:
            Tensor: Frame tokens ``[B, T, 1024]`` (or ``[N, 1024]``).
        """
        if x.ndim == 4:
            return self._forward_distinct(x)
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)  # [B*T, 3, H, W]
        return self._forward_distinct(frames).view(b, t, -1)  # [B, T, 1024]

    def _forward_distinct(self, frames: torch.Tensor) -> torch.Tensor:
        """:meth:`forward_frames`, run on one frame when all are blank
        (zeros) in eval mode, where frames are encoded independently: the
        absent video of the per-modality scores and of audio-only
        inference costs one frame instead of a clip."""
        if not self.training and len(frames) > 1 and \
                not frames[0].any() and not frames.any():
            return self.forward_frames(frames[:1]).repeat(len(frames), 1)
        return self.forward_frames(frames)
