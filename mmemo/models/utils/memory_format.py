# Copyright (c) mmemo contributors. All rights reserved.
import torch
from torch import nn

#: tensor rank -> the channels-last memory format of that rank
_CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}


def to_channels_last(module: nn.Module) -> nn.Module:
    """Store a module's 4-D and 5-D parameters and buffers (the weights of
    2-D and 3-D convolutions) channels-last, in place.

    The values and the Parameter objects stay (an optimizer built before
    keeps them); only the memory layout changes. PyTorch's convolutions
    then compute in that layout (oneDNN on CPU, cuDNN's NHWC kernels on
    GPU), which is faster for most 2-D convolutions; the function is the
    same up to float rounding. ``nn.Module.to(memory_format=...)`` converts
    one rank only and fails on a model with both 2-D and 3-D convolutions.

    Args:
        module (nn.Module): The module, changed in place.

    Returns:
        nn.Module: ``module``.
    """
    for tensor in (*module.parameters(), *module.buffers()):
        fmt = _CHANNELS_LAST.get(tensor.dim())
        if fmt is not None and not tensor.is_contiguous(memory_format=fmt):
            tensor.data = tensor.data.contiguous(memory_format=fmt)
    return module
