# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, ResNet

from mmemo.registry import MODELS
from .tsav_weights import TorchvisionLayoutEncoder


@MODELS.register_module()
class AudioResNet18Encoder(TorchvisionLayoutEncoder):
    """TSAV's aural stream: torchvision's ResNet-18 on a log-mel image.

    The audio sub-clip encoder of JCA and JMT: torchvision's ``resnet18``
    with ``conv1`` replaced by a 1-channel ``Conv2d(1, 64, 7, 2, 3)``, as in
    TSAV (Kuhnke et al., ABAW2020), up to its global average pool: a
    ``[N, 512]`` vector per spectrogram.

    Orientation: mmemo's pipelines (``LogMelSpectrogram``) give
    ``[N, 1, T, F]`` (time x mel bins, MMAction2's audio layout), while
    TSAV feeds torchaudio's ``[1, n_mels, T]`` image, mel bins along the
    height. With ``freq_first=True`` the input is transposed to that
    ``[N, 1, F, T]`` image, so TSAV's learned filters see the axes they were
    trained on (the output size is the same either way).

    Weights: ``init_cfg=dict(type='Pretrained', checkpoint=PATH,
    prefix=None, strict=True)`` loads TSAV's ``audio_model.resnet.*`` (or
    a bare torchvision ``resnet18`` state dict); ``module.`` is stripped,
    ``prefix=None`` takes the first of :attr:`TSAV_PREFIXES` that holds
    ``conv1.weight``, and a 3-channel (ImageNet) ``conv1`` is averaged to 1
    channel as TSAV does (see :mod:`.tsav_weights`).

    Args:
        in_channels (int): Input channels. Defaults to 1.
        freq_first (bool): Transpose ``[N, 1, T, F]`` input to TSAV's
            ``[N, 1, F, T]`` (see above). Defaults to True.
        layers (Sequence[int]): Blocks per stage, torchvision's ``ResNet``
            argument; ``(1, 1, 1, 1)`` is a 10-layer variant for quick
            tests. Defaults to ``(2, 2, 2, 2)`` (ResNet-18).
        init_cfg (dict, optional): ``Pretrained`` weights (see above);
            None keeps torchvision's initialisation.
    """

    #: Where the encoder's weights may sit in a checkpoint, tried in order:
    #: TSAV's two-stream model, its ``AudioModel`` alone, an mmemo
    #: ``AVRegressor``, a bare torchvision model.
    TSAV_PREFIXES = ('audio_model.resnet.', 'resnet.', 'audio_encoder.', '')
    FIRST_CONV = 'conv1.weight'

    def __init__(self,
                 in_channels: int = 1,
                 freq_first: bool = True,
                 layers: Sequence[int] = (2, 2, 2, 2),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.freq_first = freq_first
        net = ResNet(BasicBlock, list(layers))
        # TSAV's replacement of the RGB conv1
        net.conv1 = nn.Conv2d(
            in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        # torchvision's initialisation of every other conv
        nn.init.kaiming_normal_(
            net.conv1.weight, mode='fan_out', nonlinearity='relu')
        # torchvision's modules under their own names, without fc
        self.conv1 = net.conv1
        self.bn1 = net.bn1
        self.relu = net.relu
        self.maxpool = net.maxpool
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        self.out_channels = 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode spectrograms.

        Args:
            x (Tensor): ``[N, C, T, F]`` log-mel spectrograms (e.g.
                ``[N, 1, 104, 64]``), or ``[N, C, F, T]`` with
                ``freq_first=False``.

        Returns:
            Tensor: ``[N, 512]``.
        """
        if self.freq_first:
            x = x.transpose(2, 3)  # [N, C, F, T]
        x = self.maxpool(self.relu(self.bn1(
            self.conv1(x))))  # [N, 64, F/4, T/4]
        x = self.layer1(x)  # [N, 64, F/4, T/4]
        x = self.layer2(x)  # [N, 128, F/8, T/8]
        x = self.layer3(x)  # [N, 256, F/16, T/16]
        x = self.layer4(x)  # [N, 512, F/32, T/32]
        return x.mean(dim=(2, 3))  # [N, 512]
