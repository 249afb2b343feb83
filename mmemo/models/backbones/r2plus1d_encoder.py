# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torchvision.models.video.resnet import (BasicBlock, Conv2Plus1D,
                                             R2Plus1dStem, VideoResNet)

from mmemo.registry import MODELS
from .tsav_weights import TorchvisionLayoutEncoder


@MODELS.register_module()
class R2Plus1D18Encoder(TorchvisionLayoutEncoder):
    """TSAV's visual stream: torchvision's R(2+1)D-18 on face sub-clips.

    The sub-clip encoder of JCA (T-BIOM) and JMT (``R2D1``): torchvision's
    ``r2plus1d_18`` without ``avgpool`` and ``fc``, as wrapped by TSAV
    (Kuhnke et al., ABAW2020). On an 8-frame 112x112 clip its layer-4 map
    is ``512x1x7x7``; ``pool`` reduces it:

    - ``'max'`` (JMT's MAX over space) or ``'avg'``: time averaged, then
      spatially max- or average-pooled, ``[N, 512]`` (``'avg'`` is
      torchvision's own ``avgpool``);
    - None: time averaged, ``[N, 512, h, w]``, the ``7x7`` map JCA's
      audio-guided spatial attention attends over;
    - ``'flatten'``: the whole map in ``C, T, H, W`` order, ``[N, 25088]``
      at 8x112x112, as JCA flattens it.

    The parameter names are torchvision's (``stem.0.weight``,
    ``layer1.0.conv1.0.0.weight``, ...), so a torchvision Kinetics-400
    state dict or TSAV's ``video_model.r2plus1d.*`` weights load as they
    are: ``init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix=None,
    strict=True)``. ``module.`` is stripped; ``prefix=None`` takes the
    first of :attr:`TSAV_PREFIXES` that holds ``stem.0.weight``; TSAV's
    4-channel (RGB + mask) stem is cut back to its first 3 channels, as in
    JCA (see :mod:`.tsav_weights`).

    MMAction2's ``ResNet2Plus1d(depth=18)`` is not this network, so it
    cannot take these weights: its ``Conv2plus1d`` derives every hidden
    width from its own in/out channels, giving an 83-channel stem (45 in
    torchvision) and 288/576/1152 channels in the second conv of each
    stage's first block (torchvision reuses the first conv's 230/460/921);
    its shortcuts are (2+1)D pairs with a ReLU (torchvision: one
    ``1x1x1`` conv + BN); and it max-pools after the stem, giving a
    ``4x4`` layer-4 map at 112x112. It has 33,227,745 parameters against
    torchvision's 31,300,125 (both without the classifier).

    Args:
        in_channels (int): Input channels; 4 builds TSAV's RGB + mask stem.
            Defaults to 3 (RGB, as in JCA and JMT).
        pool (str, optional): ``'max'``, ``'avg'``, ``'flatten'`` or None
            (see above). Defaults to ``'max'``.
        layers (Sequence[int]): Blocks per stage, torchvision's
            ``VideoResNet`` argument; ``(1, 1, 1, 1)`` is a 10-layer
            variant for quick tests (no pretrained weights exist for it).
            Defaults to ``(2, 2, 2, 2)`` (R(2+1)D-18).
        init_cfg (dict, optional): ``Pretrained`` weights (see above);
            None keeps torchvision's initialisation.
    """

    #: Where the encoder's weights may sit in a checkpoint, tried in order:
    #: TSAV's two-stream model, its ``VideoModel`` alone, an mmemo
    #: ``AVRegressor``, a bare torchvision model.
    TSAV_PREFIXES = ('video_model.r2plus1d.', 'r2plus1d.', 'backbone.', '')
    FIRST_CONV = 'stem.0.weight'
    POOLS = ('max', 'avg', 'flatten', None)

    def __init__(self,
                 in_channels: int = 3,
                 pool: Optional[str] = 'max',
                 layers: Sequence[int] = (2, 2, 2, 2),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        assert pool in self.POOLS, f'pool must be one of {self.POOLS}'
        self.pool = pool
        net = VideoResNet(
            block=BasicBlock,
            conv_makers=[Conv2Plus1D] * 4,
            layers=list(layers),
            stem=R2Plus1dStem)
        if in_channels != 3:
            old = net.stem[0]
            net.stem[0] = nn.Conv3d(
                in_channels,
                old.out_channels,
                kernel_size=old.kernel_size,
                stride=old.stride,
                padding=old.padding,
                bias=False)
            # torchvision's initialisation of every other conv
            nn.init.kaiming_normal_(
                net.stem[0].weight, mode='fan_out', nonlinearity='relu')
        # torchvision's modules under their own names, without avgpool/fc
        self.stem = net.stem
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        self.out_channels = 512

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The layer-4 map.

        Args:
            x (Tensor): ``[N, C, T, H, W]`` clips.

        Returns:
            Tensor: ``[N, 512, T/8, H/16, W/16]`` (``512x1x7x7`` at
            8x112x112).
        """
        x = self.stem(x)  # [N, 64, T, H/2, W/2]
        x = self.layer1(x)  # [N, 64, T, H/2, W/2]
        x = self.layer2(x)  # [N, 128, T/2, H/4, W/4]
        x = self.layer3(x)  # [N, 256, T/4, H/8, W/8]
        return self.layer4(x)  # [N, 512, T/8, H/16, W/16]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode clips.

        Args:
            x (Tensor): ``[N, C, T, H, W]`` clips (e.g. ``[N, 3, 8, 112,
                112]``).

        Returns:
            Tensor: ``[N, 512]`` (``pool='max'``/``'avg'``),
            ``[N, 512, h, w]`` (None) or ``[N, 512 * t * h * w]``
            (``'flatten'``).
        """
        feats = self.forward_features(x)  # [N, 512, t, h, w]
        if self.pool == 'flatten':
            return feats.flatten(1)  # [N, 512*t*h*w]
        # t is 1 for 8 frames; averaging keeps longer clips valid
        feats = feats.mean(dim=2)  # [N, 512, h, w]
        if self.pool == 'max':
            return feats.amax(dim=(2, 3))  # [N, 512]
        if self.pool == 'avg':
            return feats.mean(dim=(2, 3))  # [N, 512]
        return feats  # [N, 512, h, w]
