# Copyright (c) mmemo contributors. All rights reserved.
import os.path as osp
import re
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.models.backbones.resnet3d import Bottleneck3d, ResNet3d
from mmcv.cnn import ConvModule
from torch.nn.modules.utils import _triple

from mmemo.registry import MODELS
from .tsav_weights import init_from_pretrained

# Hara's names (after the checkpoint's own prefix): the stem conv / BN, a
# block's convK / bnK and its shortcut's conv (0) and BN (1). The leaf is a
# single name (weight, running_mean, ...), so MMAction2-layout keys, whose
# leaf follows `.conv.` / `.bn.`, never match and pass unchanged.
_PREFIX = r'^((?:.*\.)?'  # empty, or anything up to a dot
_HARA_BLOCK = re.compile(_PREFIX + r'layer\d+\.\d+\.)(conv|bn)(\d)\.(\w+)$')
_HARA_SHORTCUT = re.compile(_PREFIX +
                            r'layer\d+\.\d+\.downsample\.)([01])\.(\w+)$')
_HARA_STEM = re.compile(_PREFIX + r')(conv|bn)1\.(\w+)$')


def hara_to_mmaction(key: str) -> str:
    """Rename a key of Hara et al.'s 3D ResNeXt into :class:`ResNeXt3D`'s.

    ``conv1.weight`` → ``conv1.conv.weight``; ``bn1.*`` → ``conv1.bn.*``;
    ``layerI.J.convK.weight`` → ``layerI.J.convK.conv.weight``;
    ``layerI.J.bnK.*`` → ``layerI.J.convK.bn.*``;
    ``layerI.J.downsample.0.*`` → ``layerI.J.downsample.conv.*`` and
    ``downsample.1.*`` → ``downsample.bn.*``. A prefix before the network's
    own names (``visual_model.``, ...) is kept; other keys (``fc.*``, keys
    already in MMAction2's layout) are returned unchanged.

    Args:
        key (str): A checkpoint key, ``module.`` already stripped.

    Returns:
        str: The key in :class:`ResNeXt3D`'s layout.
    """
    match = _HARA_BLOCK.match(key)
    if match:
        pre, kind, index, leaf = match.groups()
        return f'{pre}conv{index}.{kind}.{leaf}'
    match = _HARA_SHORTCUT.match(key)
    if match:
        pre, index, leaf = match.groups()
        return f"{pre}{'conv' if index == '0' else 'bn'}.{leaf}"
    match = _HARA_STEM.match(key)
    if match:
        pre, kind, leaf = match.groups()
        return f'{pre}conv1.{kind}.{leaf}'
    return key


class ResNeXtBottleneck3d(Bottleneck3d):
    """Hara et al.'s ResNeXt bottleneck on MMAction2's ``Bottleneck3d``.

    ``1x1x1`` conv (``planes``) → grouped ``3x3x3`` conv (``planes``,
    ``cardinality`` groups, the block's stride) → ``1x1x1`` conv
    (``planes * 2``), each followed by BN, ReLU after the first two and
    after the residual sum. ``planes`` is Hara's ``mid_planes``
    (``cardinality * planes_hara / 32``).

    Args:
        inplanes (int): Input channels.
        planes (int): Width of the grouped conv.
        cardinality (int): Groups of the ``3x3x3`` conv. Defaults to 32.
        **kwargs: Other arguments of ``Bottleneck3d`` (the ``3x3x3``
            kernels need ``inflate_style='3x3x3'``).
    """
    expansion = 2

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 cardinality: int = 32,
                 **kwargs) -> None:
        if planes % cardinality:
            raise ValueError(f'ResNeXt block width {planes} is not divisible '
                             f'by the cardinality {cardinality}')
        super().__init__(inplanes, planes, **kwargs)
        conv2 = self.conv2.conv
        # Bottleneck3d's conv2 is dense: the same conv, grouped
        self.conv2 = ConvModule(
            planes,
            planes,
            conv2.kernel_size,
            stride=conv2.stride,
            padding=conv2.padding,
            dilation=conv2.dilation,
            groups=cardinality,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)


@MODELS.register_module()
class ResNeXt3D(ResNet3d):
    """Hara et al.'s 3D ResNeXt (shortcut B), the visual encoder of MSAF and
    CFN-SR, built from MMAction2's ``ResNet3d``.

    Hara, Kataoka & Satoh, "Can Spatiotemporal 3D CNNs Retrace the History
    of 2D CNNs and ImageNet?", CVPR 2018 (github.com/kenshohara/
    3D-ResNets-PyTorch, ``models/resnext.py``). Stem: ``7x7x7`` conv
    (stride 1, 2, 2; padding 3) + BN + ReLU, ``3x3x3`` max-pool (stride 2,
    padding 1, in time too); 4 stages of :class:`ResNeXtBottleneck3d`
    (widths 128/256/512/1024, outputs 256/512/1024/2048), stride 2 in time
    and space at the first block of stages 2-4; 1x1x1 conv + BN shortcuts
    where the shape changes. No pooling or classifier: the output is the
    last stage's map, ``[B, 2048, 2, 7, 7]`` for 30 frames at 224x224.
    ResNeXt-50 has 25,865,664 parameters (Hara's 25,882,056 with an 8-class
    ``fc``).

    Weights: ``init_cfg=dict(type='Pretrained', checkpoint=PATH,
    prefix=None, strict=True)`` (or ``pretrained=PATH``) loads Hara-style
    checkpoints (MSAF's ``fold_i_resnext50_best.pth``, Hara's
    ``resnext-101-kinetics.pth``): ``module.`` is stripped, a ``state_dict``
    entry unwrapped, the names translated by :func:`hara_to_mmaction` and
    the classifier (``fc.*``) dropped; files are unpickled with
    ``weights_only=True`` and nothing is downloaded. Keys in this module's
    own layout (an mmemo checkpoint, prefix ``backbone.``) load too.

    Args:
        depth (int): 50, 101 or 152. Defaults to 50.
        cardinality (int): Groups of the ``3x3x3`` convs. Defaults to 32.
        stem_channels (int): Stem output channels. Defaults to 64.
        base_channels (int): Width of the first stage's grouped conv (its
            output is twice that). Defaults to 128.
        num_stages (int): Stages kept (1-4). Defaults to 4.
        stage_blocks (Sequence[int], optional): Blocks per stage; None takes
            ``depth``'s. A shallow variant (e.g. ``(1, 1, 1, 1)``) has no
            pretrained weights.
        spatial_strides (Sequence[int]): Defaults to ``(1, 2, 2, 2)``.
        temporal_strides (Sequence[int]): Defaults to ``(1, 2, 2, 2)``.
        conv1_kernel (Sequence[int]): Defaults to ``(7, 7, 7)``.
        pool1_stride_t (int): Temporal stride of the stem pool.
            Defaults to 2.
        stem_relu (bool): ReLU after the stem's BN. Defaults to True
            (Hara's network); CFN-SR's code skips it (its video path is
            ``Sequential`` of the children without ``relu``).
        out_indices (Sequence[int]): Stages whose maps are returned.
            Defaults to ``(3, )``.
        pretrained (str, optional): Hara-style checkpoint path, the same as
            a ``Pretrained`` ``init_cfg``. Defaults to None.
        init_cfg (dict, optional): ``Pretrained`` weights (see above); None
            keeps Hara's initialisation (Kaiming-normal fan-out convs, BN
            weight 1 and bias 0).
        **kwargs: Other arguments of ``ResNet3d`` (``norm_cfg``,
            ``norm_eval``, ``frozen_stages``, ``with_cp``, ...).
    """

    arch_settings = {
        50: (ResNeXtBottleneck3d, (3, 4, 6, 3)),
        101: (ResNeXtBottleneck3d, (3, 4, 23, 3)),
        152: (ResNeXtBottleneck3d, (3, 8, 36, 3))
    }
    #: Where the network sits in a checkpoint, tried in order: Hara's and
    #: MSAF's unimodal models, an mmemo recognizer.
    PREFIXES = ('', 'backbone.')
    FIRST_CONV = 'conv1.conv.weight'

    def __init__(self,
                 depth: int = 50,
                 cardinality: int = 32,
                 stem_channels: int = 64,
                 base_channels: int = 128,
                 num_stages: int = 4,
                 stage_blocks: Optional[Sequence[int]] = None,
                 spatial_strides: Sequence[int] = (1, 2, 2, 2),
                 temporal_strides: Sequence[int] = (1, 2, 2, 2),
                 conv1_kernel: Sequence[int] = (7, 7, 7),
                 pool1_stride_t: int = 2,
                 stem_relu: bool = True,
                 out_indices: Sequence[int] = (3, ),
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Dict] = None,
                 **kwargs) -> None:
        if depth not in self.arch_settings:
            raise KeyError(f'ResNeXt3D has no depth {depth}; choose one of '
                           f'{sorted(self.arch_settings)}')
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('give either `pretrained` or `init_cfg`')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        self.stem_channels = stem_channels
        self.stem_relu = stem_relu
        super().__init__(
            depth=depth,
            pretrained=None,
            pretrained2d=False,
            stage_blocks=stage_blocks,
            num_stages=num_stages,
            base_channels=base_channels,
            out_indices=out_indices,
            spatial_strides=spatial_strides[:num_stages],
            temporal_strides=temporal_strides[:num_stages],
            dilations=(1, ) * num_stages,
            conv1_kernel=conv1_kernel,
            pool1_stride_t=pool1_stride_t,
            with_pool2=False,
            inflate_style='3x3x3',
            zero_init_residual=False,
            cardinality=cardinality,
            init_cfg=init_cfg,
            **kwargs)

    def _make_stem_layer(self) -> None:
        """Hara's stem: ``stem_channels`` (not ``base_channels``) outputs
        and a ``3x3x3`` max-pool, stride 2 in time too."""
        kernel = _triple(self.conv1_kernel)
        self.conv1 = ConvModule(
            self.in_channels,
            self.stem_channels,
            kernel_size=kernel,
            stride=(self.conv1_stride_t, self.conv1_stride_s,
                    self.conv1_stride_s),
            padding=tuple((k - 1) // 2 for k in kernel),
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg if self.stem_relu else None)
        self.maxpool = nn.MaxPool3d(
            kernel_size=3,
            stride=(self.pool1_stride_t, self.pool1_stride_s,
                    self.pool1_stride_s),
            padding=1)
        # the first stage takes the stem's channels
        self.inplanes = self.stem_channels

    def init_weights(self) -> None:
        """Load ``Pretrained`` Hara-style weights, or initialise as Hara."""
        cfg = self.init_cfg if isinstance(self.init_cfg, dict) else {}
        if cfg.get('type') != 'Pretrained':
            return super().init_weights()
        checkpoint = cfg.get('checkpoint')
        if not checkpoint or ('://' not in checkpoint
                              and not osp.isfile(osp.expanduser(checkpoint))):
            raise FileNotFoundError(
                f'ResNeXt3D checkpoint {checkpoint!r} not found. mmemo never '
                'downloads weights: get a Hara-style file (MSAF\'s '
                'fold_<i>_resnext50_best.pth, or resnext-50/101-kinetics.pth '
                'from kenshohara/3D-ResNets-PyTorch) and set '
                'init_cfg.checkpoint to its path.')
        init_from_pretrained(
            self,
            cfg,
            self.FIRST_CONV,
            self.PREFIXES,
            key_map=hara_to_mmaction)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode clips.

        Args:
            x (Tensor): ``[B, 3, T, H, W]`` clips.

        Returns:
            Tensor: The last stage's map, ``[B, 2048, T/16, H/32, W/32]``
            (rounded up; ``[B, 2048, 2, 7, 7]`` at 30x224x224), or a tuple
            with several ``out_indices``.
        """
        return super().forward(x)
