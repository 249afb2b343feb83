# Copyright (c) mmemo contributors. All rights reserved.
# The P-/R-/O-Net definitions follow facenet-pytorch
# (https://github.com/timesler/facenet-pytorch, MIT licence,
# Copyright (c) 2019 Timothy Esler), whose weights they load.
"""The three networks of the MTCNN cascade (Zhang et al., 2016).

Layer names and shapes match ``facenet_pytorch/data/{pnet,rnet,onet}.pt``
so their ``state_dict`` loads with ``strict=True``. Inputs are RGB images
scaled to ``[-1, 1)`` by ``(x - 127.5) / 128``.
"""
from typing import Tuple

import torch
from torch import nn


class PNet(nn.Module):
    """Proposal network: a fully convolutional 12×12 face / no-face scorer.

    Each output cell sees a 12×12 window of the input with a stride of 2.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Score every 12×12 window.

        Args:
            x (torch.Tensor): Images ``[N, 3, H, W]``.

        Returns:
            tuple[torch.Tensor]: Box offsets ``[N, 4, H', W']`` and face
            probabilities ``[N, H', W']`` with ``H' = (H - 10) // 2``.
        """
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))  # [N, 32, H', W']
        prob = self.conv4_1(x).softmax(dim=1)[:, 1]  # [N, H', W']
        return self.conv4_2(x), prob


class RNet(nn.Module):
    """Refinement network: scores and regresses 24×24 candidate crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Refine candidate crops.

        Args:
            x (torch.Tensor): Crops ``[K, 3, 24, 24]``.

        Returns:
            tuple[torch.Tensor]: Box offsets ``[K, 4]`` and face
            probabilities ``[K]``.
        """
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))  # [K, 64, 3, 3]
        # the weights were ported from Caffe, which flattens W before H
        x = x.permute(0, 3, 2, 1).flatten(1)  # [K, 576]
        x = self.prelu4(self.dense4(x))  # [K, 128]
        prob = self.dense5_1(x).softmax(dim=1)[:, 1]  # [K]
        return self.dense5_2(x), prob


class ONet(nn.Module):
    """Output network: final scores, boxes and landmarks of 48×48 crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        # five landmarks (x1..x5, y1..y5); unused by the detector but part
        # of the checkpoint
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Score and regress the final candidate crops.

        Args:
            x (torch.Tensor): Crops ``[K, 3, 48, 48]``.

        Returns:
            tuple[torch.Tensor]: Box offsets ``[K, 4]`` and face
            probabilities ``[K]``.
        """
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))  # [K, 128, 3, 3]
        x = x.permute(0, 3, 2, 1).flatten(1)  # [K, 1152]
        x = self.prelu5(self.dense5(x))  # [K, 256]
        prob = self.dense6_1(x).softmax(dim=1)[:, 1]  # [K]
        return self.dense6_2(x), prob
