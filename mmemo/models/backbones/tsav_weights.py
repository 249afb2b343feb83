# Copyright (c) mmemo contributors. All rights reserved.
"""Load TSAV-style pretrained weights into the JCA/JMT sub-clip encoders.

TSAV (Kuhnke et al., ABAW2020, github.com/kuhnkeF/ABAW2020TNT) wraps two
torchvision networks: ``video_model.r2plus1d`` (``r2plus1d_18`` with a
4-channel RGB + mask stem) and ``audio_model.resnet`` (``resnet18`` with a
1-channel ``conv1``), and was trained under ``nn.DataParallel``, which adds
``module.`` to every key. The exact prefixes in ``TSAV_Sub4_544k.pth.tar``
cannot be checked offline, so they are configurable, and by default the
first of a list of known layouts that fits is used.
"""
import os.path as osp
from typing import Callable, Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

# Keys of a checkpoint's head: the encoders end before the classifier.
HEAD_PREFIXES = ('fc.', )


def read_state_dict(checkpoint: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint's weights, without ``module.`` prefixes.

    The file is unpickled with ``weights_only=True`` (mmengine's loaders
    under mmemo's checkpoint policy, see :mod:`mmemo.compat`). A dict with
    a ``state_dict`` (TSAV, mmengine) or ``model`` entry is unwrapped.

    Args:
        checkpoint (str): Path (or mmengine-supported URL) of the file.

    Returns:
        dict[str, Tensor]: The weights, ``module.`` stripped from the keys.

    Raises:
        FileNotFoundError: If a local ``checkpoint`` does not exist.
    """
    if '://' not in checkpoint and not osp.isfile(osp.expanduser(checkpoint)):
        raise FileNotFoundError(
            f'Pretrained checkpoint {checkpoint!r} not found. mmemo never '
            'downloads TSAV weights: get the file (e.g. '
            'TSAV_Sub4_544k.pth.tar from github.com/kuhnkeF/ABAW2020TNT) '
            'and set init_cfg.checkpoint to its path.')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    state_dict = {}
    for key, value in ckpt.items():
        # nn.DataParallel / DDP wrappers, possibly nested
        while key.startswith('module.'):
            key = key[len('module.'):]
        state_dict[key] = value
    return state_dict


def select_prefix(state_dict: Dict[str, torch.Tensor], first_conv: str,
                  prefixes: Sequence[str], checkpoint: str) -> str:
    """Find the prefix under which a checkpoint holds the encoder.

    Args:
        state_dict (dict): The checkpoint's weights.
        first_conv (str): The encoder's stem conv weight, e.g.
            ``'stem.0.weight'``: a prefix fits if ``prefix + first_conv``
            is a key.
        prefixes (Sequence[str]): Candidates, tried in order (``''`` =
            the keys are the encoder's own).
        checkpoint (str): The file, for the error message.

    Returns:
        str: The first fitting prefix.

    Raises:
        KeyError: If none fits.
    """
    for prefix in prefixes:
        if prefix + first_conv in state_dict:
            return prefix
    sample = ', '.join(list(state_dict)[:5])
    raise KeyError(
        f'{checkpoint!r} has no {first_conv!r} under any of the prefixes '
        f'{list(prefixes)} (its first keys: {sample}). Set '
        "init_cfg['prefix'] to the part of the keys before the encoder's "
        'own (after `module.`, which is stripped).')


def adapt_first_conv(weight: torch.Tensor, in_channels: int,
                     name: str) -> torch.Tensor:
    """Fit a checkpoint's stem conv weight to the encoder's input channels.

    - more channels than the encoder, encoder with 1 channel: average them,
      as TSAV turns ImageNet's RGB ``conv1`` into its 1-channel audio one;
    - otherwise more channels: keep the first ``in_channels``, as JCA cuts
      TSAV's RGB + mask stem back to RGB.

    Args:
        weight (Tensor): ``[C_out, C_in, ...]`` conv weight.
        in_channels (int): The encoder's input channels.
        name (str): The weight's key, for the log.

    Returns:
        Tensor: ``[C_out, in_channels, ...]`` (unchanged if ``C_in`` is not
        larger; a mismatch then fails in ``load_state_dict``).
    """
    have = weight.shape[1]
    if have <= in_channels:
        return weight
    if in_channels == 1:
        print_log(
            f'{name}: averaging the checkpoint\'s {have} input channels '
            'into 1.',
            logger='current')
        return weight.mean(dim=1, keepdim=True)  # [C_out, 1, ...]
    print_log(
        f'{name}: keeping the first {in_channels} of the checkpoint\'s '
        f'{have} input channels (TSAV\'s 4th, the face mask, is dropped).',
        logger='current')
    return weight[:, :in_channels].contiguous()  # [C_out, in_channels, ...]


def load_tsav_weights(module: nn.Module,
                      checkpoint: str,
                      first_conv: str,
                      prefixes: Sequence[str],
                      prefix: Optional[str] = None,
                      strict: bool = True,
                      key_map: Optional[Callable[[str], str]] = None) -> str:
    """Load a TSAV-style (or plain torchvision) checkpoint into an encoder.

    The encoder's parameter names must be those of the torchvision network
    it rebuilds (``stem.0.weight``, ``layer1.0.conv1.0.0.weight``, ...).
    Steps: read with ``weights_only=True`` and strip ``module.``; rename
    the keys with ``key_map`` (if given); keep the keys under ``prefix``
    (or the first of ``prefixes`` that holds ``first_conv``) without it;
    drop the classifier (``fc.*``); fit the stem conv's input channels
    (:func:`adapt_first_conv`); load with mmengine's ``load_state_dict``.

    Args:
        module (nn.Module): The encoder.
        checkpoint (str): The file.
        first_conv (str): The stem conv weight's key in ``module``.
        prefixes (Sequence[str]): Known layouts, used when ``prefix`` is
            None.
        prefix (str, optional): The encoder's key prefix in the
            checkpoint (``''`` = none; a leading ``module.`` is ignored).
            Defaults to None (auto).
        strict (bool): Fail on missing or unexpected keys (beyond the
            dropped classifier). Defaults to True: a frozen encoder left
            partly random would fail silently.
        key_map (callable, optional): Renames every checkpoint key (after
            ``module.`` is stripped, before the prefix is looked for) into
            the module's layout, e.g. Hara's 3D-ResNeXt names into
            MMAction2's (:func:`.resnext3d.hara_to_mmaction`). Defaults to
            None (the keys are the module's own).

    Returns:
        str: The prefix used.
    """
    state_dict = read_state_dict(checkpoint)
    if key_map is not None:
        state_dict = {key_map(k): v for k, v in state_dict.items()}
    if prefix is not None:
        # the keys lost their `module.`, so a prefix copied from them too
        while prefix.startswith('module.'):
            prefix = prefix[len('module.'):]
    candidates = prefixes if prefix is None else (prefix, )
    prefix = select_prefix(state_dict, first_conv, candidates, checkpoint)
    weights = {
        k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }
    head = [k for k in weights if k.startswith(HEAD_PREFIXES)]
    for key in head:
        del weights[key]
    in_channels = module.state_dict()[first_conv].shape[1]
    weights[first_conv] = adapt_first_conv(weights[first_conv], in_channels,
                                           first_conv)
    print_log(
        f'Loading {type(module).__name__} from {checkpoint} '
        f'(prefix {prefix!r}, {len(weights)} tensors, classifier keys '
        f'dropped: {head or "none"}).',
        logger='current')
    load_state_dict(module, weights, strict=strict, logger='current')
    return prefix


def init_from_pretrained(
        module: nn.Module,
        init_cfg: dict,
        first_conv: str,
        prefixes: Sequence[str],
        key_map: Optional[Callable[[str], str]] = None) -> None:
    """Run :func:`load_tsav_weights` for a ``Pretrained`` ``init_cfg``.

    Args:
        module (nn.Module): The encoder.
        init_cfg (dict): ``dict(type='Pretrained', checkpoint=PATH,
            prefix=None, strict=True)``.
        first_conv (str): See :func:`load_tsav_weights`.
        prefixes (Sequence[str]): See :func:`load_tsav_weights`.
        key_map (callable, optional): See :func:`load_tsav_weights`.
    """
    load_tsav_weights(
        module,
        init_cfg['checkpoint'],
        first_conv=first_conv,
        prefixes=prefixes,
        prefix=init_cfg.get('prefix'),
        strict=init_cfg.get('strict', True),
        key_map=key_map)


class TorchvisionLayoutEncoder(BaseModule):
    """Base of the encoders kept in torchvision's module layout, so that
    TSAV, Kinetics or ImageNet weights load from a file.

    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=None)`` loads
    them with :func:`init_from_pretrained`; any other ``init_cfg`` (or none)
    keeps torchvision's initialisation. Subclasses name their first conv
    (``FIRST_CONV``) and the key prefixes tried in order
    (``TSAV_PREFIXES``).
    """
    FIRST_CONV: str = ''
    TSAV_PREFIXES: Sequence[str] = ('', )

    def init_weights(self) -> None:
        """Load ``Pretrained`` weights, or keep torchvision's init."""
        cfg = self.init_cfg if isinstance(self.init_cfg, dict) else {}
        if cfg.get('type') != 'Pretrained':
            return super().init_weights()
        init_from_pretrained(self, cfg, self.FIRST_CONV, self.TSAV_PREFIXES)
        self._is_init = True
