# Copyright (c) mmemo contributors. All rights reserved.
"""Write a published checkpoint: weights-only, named by its hash.

A published checkpoint holds only ``state_dict`` and a plain ``meta`` and
is named ``<name>_<YYYYMMDD>-<sha256[:8]>.pth``, the convention of
torchvision and the OpenMMLab model zoos; mmemo checks the hash of a file
so named whenever it loads it (:mod:`mmemo.utils.hub`).
``tools/deployment/publish_model.py`` and the official-checkpoint
converters (``tools/model_converters``) write their files with
:func:`save_published_checkpoint`.
"""
import datetime
import os
import os.path as osp
import re
from typing import Optional, Tuple


def published_date(date: Optional[str] = None) -> str:
    """``date`` checked as ``YYYYMMDD``, or today's.

    Raises:
        ValueError: If ``date`` is not eight digits.
    """
    date = date or datetime.date.today().strftime('%Y%m%d')
    if not re.fullmatch(r'\d{8}', date):
        raise ValueError(f'--date must be YYYYMMDD, got {date!r}')
    return date


def save_published_checkpoint(checkpoint: dict,
                              out_dir: str,
                              name: str,
                              date: Optional[str] = None) -> Tuple[str, str]:
    """Save ``checkpoint`` as ``<out_dir>/<name>_<date>-<sha256[:8]>.pth``.

    The file is written under a temporary name, loaded back with
    ``torch.load(weights_only=True)`` (a published file must need no
    allow-list), hashed and renamed.

    Args:
        checkpoint (dict): ``dict(state_dict=..., meta=...)`` of tensors and
            builtin Python types.
        out_dir (str): The folder (created if needed).
        name (str): The model's name, usually its config's.
        date (str, optional): ``YYYYMMDD``; defaults to today.

    Returns:
        tuple[str, str]: The file's path and its full SHA-256.
    """
    import torch

    from mmemo.utils.hub import file_sha256
    date = published_date(date)
    os.makedirs(out_dir, exist_ok=True)
    tmp = osp.join(out_dir, f'.{name}_{date}.pth.tmp')
    torch.save(checkpoint, tmp)
    # the published file must load without any allow-list
    torch.load(tmp, map_location='cpu', weights_only=True)
    sha = file_sha256(tmp)
    final = osp.join(out_dir, f'{name}_{date}-{sha[:8]}.pth')
    os.replace(tmp, final)
    return final, sha
