# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official checkpoint to mmemo's keys with an
:class:`~.layout.OfficialLayout`.

The input is read with mmemo's restricted loader
(:func:`mmemo.checkpoint.safe_torch_load`) and unwrapped from the
containers official code saves (``state_dict`` / ``model`` / ``net``
entries, DataParallel's ``module.`` prefix). Every official tensor must be
mapped or listed as unused, every mmemo tensor in the layout's scope must
be filled or listed as having no official counterpart, and every shape
must equal the one of the model the config builds; otherwise
:class:`OfficialCheckpointError` names the tensors.
"""
import os.path as osp
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import torch

from .layout import OfficialLayout

#: Where official checkpoints nest their state dict, in order of preference.
STATE_DICT_KEYS = ('state_dict', 'model', 'net')
_SHOWN = 10  # tensors named per problem


class OfficialCheckpointError(ValueError):
    """An official checkpoint does not fit its layout or the mmemo model.

    Args:
        path (str): The checkpoint.
        problem (str): What is wrong, naming the tensors.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f'{path}: {problem}')
        self.path = path
        self.problem = problem


@dataclass
class Conversion:
    """The result of :func:`convert_state_dict`.

    Args:
        layout (OfficialLayout): The layout applied.
        state_dict (dict): mmemo keys (of the whole model) -> tensors.
        dropped (list[str]): Official tensors the official model never
            uses.
        not_filled (list[str]): mmemo tensors with no official counterpart
            (left to the model's initialisation).
        outside_scope (list[str]): mmemo tensors outside the layout's scope
            (e.g. the encoders of a ``cls_head`` layout).
    """
    layout: OfficialLayout
    state_dict: Dict[str, torch.Tensor]
    dropped: List[str] = field(default_factory=list)
    not_filled: List[str] = field(default_factory=list)
    outside_scope: List[str] = field(default_factory=list)


def _names(keys: Sequence[str]) -> str:
    keys = list(keys)
    shown = ', '.join(keys[:_SHOWN])
    more = len(keys) - _SHOWN
    return shown + (f' and {more} more' if more > 0 else '')


def _is_state_dict(value) -> bool:
    return isinstance(value, Mapping) and len(value) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor)
        for k, v in value.items())


def unwrap_state_dict(checkpoint, source: str) -> Dict[str, torch.Tensor]:
    """The official state dict inside a checkpoint.

    Args:
        checkpoint: What the file holds: a state dict, or a dict holding it
            under one of :data:`STATE_DICT_KEYS` (with ``epoch``,
            ``optimizer`` and the like beside it), possibly nested.
        source (str): The file, for messages.

    Returns:
        dict: Key -> tensor, without DataParallel's ``module.`` prefix.
    """
    state = checkpoint
    while not _is_state_dict(state):
        if not isinstance(state, Mapping):
            raise OfficialCheckpointError(
                source, f'holds a {type(state).__name__}, not a state dict')
        nested = [
            k for k in STATE_DICT_KEYS if isinstance(state.get(k), Mapping)
        ]
        if not nested:
            raise OfficialCheckpointError(
                source, 'has no state dict: expected a dict of tensors or '
                f'one under {"/".join(STATE_DICT_KEYS)} (its keys: '
                f'{_names([str(k) for k in state])})')
        state = state[nested[0]]
    if all(key.startswith('module.') for key in state):
        state = {key[len('module.'):]: value for key, value in state.items()}
    return dict(state)


def select_layout(official_keys: Iterable[str],
                  layouts: Sequence[OfficialLayout],
                  source: str) -> OfficialLayout:
    """The one variant whose ``signature`` the checkpoint has."""
    official_keys = list(official_keys)
    matching = [lay for lay in layouts if lay.matches(official_keys)]
    if len(matching) != 1:
        signatures = ', '.join(f'{lay.signature}.* ({lay.name})'
                               for lay in layouts)
        raise OfficialCheckpointError(
            source, f'cannot tell the variant: expected the tensors of '
            f'exactly one of {signatures}, found {len(matching)}')
    return matching[0]


def _config_value(cfg, path: str):
    node = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg
    for part in path.split('.'):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def check_config(layout: OfficialLayout, cfg, config: str,
                 source: str) -> None:
    """Refuse a config whose settings the layout's tensors do not fit
    (e.g. JMT's aggregation)."""
    for path, wanted in layout.config_settings.items():
        value = _config_value(cfg, path)
        if value is not None and value != wanted:
            raise OfficialCheckpointError(
                source, f'this is a {layout.name} checkpoint (it has '
                f'{layout.signature}.*), which needs {path}={wanted!r}, but '
                f'{config} sets {value!r}: convert (and test) with '
                f'--cfg-options {path}={wanted}')


def build_model(cfg, device: str = 'meta') -> torch.nn.Module:
    """The model of a config, built in its default scope without running
    its ``init_weights``.

    Args:
        cfg (mmengine.Config): The config.
        device (str): ``'meta'`` (shapes only: no memory, no
            initialisation) or ``'cpu'``. A model that cannot be built on
            the meta device is built on the CPU.

    Returns:
        nn.Module: The model.
    """
    from mmengine import DefaultScope
    from mmengine.registry import init_default_scope

    from mmemo.registry import MODELS
    from mmemo.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    scope = cfg.get('default_scope', 'mmemo')
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        if device == 'meta':
            try:
                with torch.device('meta'):
                    return MODELS.build(cfg.model)
            except (NotImplementedError, RuntimeError):
                pass  # a module computes with its tensors while built
        return MODELS.build(cfg.model)


def convert_state_dict(state: Dict[str, torch.Tensor], layout: OfficialLayout,
                       model_shapes: Dict[str, torch.Size],
                       source: str) -> Conversion:
    """Map an official state dict onto mmemo's keys and check it.

    Args:
        state (dict): The official state dict (unwrapped).
        layout (OfficialLayout): How it maps.
        model_shapes (dict): Key -> shape of every tensor of the mmemo
            model (whole model).
        source (str): The file, for messages.

    Returns:
        Conversion: The converted tensors (whole-model keys) and what was
        dropped or left unfilled.
    """
    prefix = f'{layout.scope}.' if layout.scope else ''
    converted, sources = {}, {}
    dropped, unknown, absent, mismatched = [], [], [], []
    for key, tensor in state.items():
        if layout.is_unused(key):
            dropped.append(key)
            continue
        target = layout.rename(key)
        transform = layout.transforms.get(key)
        if transform is None and target is None:
            unknown.append(key)
            continue
        try:
            outputs = transform(target, tensor) if transform else {
                target: tensor
            }
        except ValueError as error:
            mismatched.append(f'{key} ({error})')
            continue
        for name, value in outputs.items():
            name = prefix + name
            if name not in model_shapes:
                absent.append(f'{key} -> {name}')
            elif value.shape != model_shapes[name]:
                mismatched.append(f'{key} {list(tensor.shape)} -> {name} '
                                  f'{list(model_shapes[name])}')
            elif name in converted:
                raise AssertionError(f'layout {layout.name}: {sources[name]} '
                                     f'and {key} both fill {name}')
            else:
                converted[name] = value.detach().clone(
                    memory_format=torch.contiguous_format)
                sources[name] = key
    in_scope = [k for k in model_shapes if k.startswith(prefix)]
    unfilled = [k for k in in_scope if k not in converted]
    not_filled = [
        k for k in unfilled if layout.has_no_counterpart(k[len(prefix):])
    ]
    missing = []
    for name in unfilled:
        if name not in not_filled:
            official = layout.source_of(name[len(prefix):])
            missing.append(f'{official} (-> {name})' if official else name)
    problems = []
    what = f'{layout.official_class} ({layout.repo} @ {layout.commit[:7]})'
    if unknown:
        problems.append(f'{len(unknown)} tensor(s) that {what} does not '
                        f'have: {_names(unknown)}')
    if absent:
        problems.append(f'{len(absent)} tensor(s) with no place in the mmemo '
                        f'model: {_names(absent)}')
    if mismatched:
        problems.append(f'{len(mismatched)} tensor(s) of another shape than '
                        f'the mmemo model\'s: {_names(mismatched)}')
    if missing:
        problems.append(f'{len(missing)} tensor(s) of {what} missing: '
                        f'{_names(missing)}')
    if problems:
        raise OfficialCheckpointError(source, '; '.join(problems))
    return Conversion(
        layout=layout,
        state_dict=converted,
        dropped=dropped,
        not_filled=not_filled,
        outside_scope=[k for k in model_shapes if not k.startswith(prefix)])


def convert_official_checkpoint(in_file: str,
                                layouts: Sequence[OfficialLayout],
                                config: str,
                                cfg_options: Optional[dict] = None,
                                fill_from_init: bool = False) -> Conversion:
    """Read an official checkpoint and convert it for an mmemo config.

    Args:
        in_file (str): The official checkpoint.
        layouts (Sequence[OfficialLayout]): The model's layouts (variants
            are told apart by their ``signature``).
        config (str): The mmemo config whose model the weights are for.
        cfg_options (dict, optional): Overrides merged into the config.
        fill_from_init (bool): Also fill every tensor the official
            checkpoint has no weights for from the model as its
            ``init_weights`` leaves it (e.g. the encoders from their
            ``init_cfg`` checkpoint). Defaults to False.

    Returns:
        Conversion: See :func:`convert_state_dict`.
    """
    import errno
    import os

    from mmengine.config import Config

    from mmemo.checkpoint import safe_torch_load
    if not osp.isfile(in_file):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT),
                                in_file)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    checkpoint = safe_torch_load(in_file, map_location='cpu')
    state = unwrap_state_dict(checkpoint, in_file)
    layout = select_layout(state, layouts, in_file)
    check_config(layout, cfg, config, in_file)
    shapes = {k: v.shape for k, v in build_model(cfg).state_dict().items()}
    conversion = convert_state_dict(state, layout, shapes, in_file)
    if fill_from_init:
        torch.manual_seed(0)
        model = build_model(cfg, device='cpu')
        model.init_weights()
        for key, value in model.state_dict().items():
            conversion.state_dict.setdefault(key, value.detach().clone())
    return conversion
