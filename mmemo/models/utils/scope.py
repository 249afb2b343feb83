# Copyright (c) mmemo contributors. All rights reserved.
"""Build a model config from another package in that package's scope."""
from typing import Optional


def in_own_scope(cfg: Optional[dict]) -> Optional[dict]:
    """Make a model config build under the scope its ``type`` names.

    ``type='mmaction.ResNet2Plus1d'`` finds the class in MMAction2's
    registry, but the parts it builds itself (``conv_cfg=dict(type=
    'Conv2plus1d')``, ...) are looked up in the *default* scope, mmemo,
    which does not have them. Setting ``_scope_`` to the prefix makes
    MMEngine switch the default scope while building, as it would for an
    MMAction2 config.

    Args:
        cfg (dict, optional): The model's config.

    Returns:
        dict, optional: A copy with ``_scope_`` set (unchanged if the type
        has no scope prefix or ``_scope_`` is already given).
    """
    if not isinstance(cfg, dict):
        return cfg
    cfg = cfg.copy()
    type_ = cfg.get('type')
    if isinstance(type_, str) and '.' in type_ and '_scope_' not in cfg:
        cfg['_scope_'], cfg['type'] = type_.split('.', 1)
    return cfg
