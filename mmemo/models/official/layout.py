# Copyright (c) mmemo contributors. All rights reserved.
"""How an official repository's state dict maps onto an mmemo model.

An :class:`OfficialLayout` is data: key renames, a few tensor transforms,
the official tensors to drop and the mmemo tensors with no official
counterpart. The converter (:mod:`.convert`) applies it and checks the
result against the model built from the config.

A rename rule is a pair ``(official prefix, mmemo prefix)`` of dotted module
paths, matched component by component; ``*`` stands for one component (a
block index) and is carried over. A key takes the most specific rule that
matches its beginning: with ``('visual_model', 'backbone')`` and
``('visual_model.conv1d_0', 'cls_head.video_stage1.0')``,
``visual_model.stage2.0.branch1.0.weight`` becomes
``backbone.stage2.0.branch1.0.weight`` and
``visual_model.conv1d_0.1.running_mean`` becomes
``cls_head.video_stage1.0.1.running_mean``.

A transform takes the key the rules give (None if none applies) and the
official tensor, and returns ``{mmemo key: tensor}``; :func:`split_rows`
and :func:`reorder_blocks` make the ones the layouts need.
"""
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple)

import torch

Rule = Tuple[str, str]
Transform = Callable[[Optional[str], torch.Tensor], Dict[str, torch.Tensor]]


def nested(outer: Iterable[Rule], inner: Iterable[Rule]) -> Tuple[Rule, ...]:
    """The rules of a block repeated under several parents: every outer
    rule joined with every inner one.

    Args:
        outer (Iterable[tuple]): ``(official, mmemo)`` parent prefixes.
        inner (Iterable[tuple]): ``(official, mmemo)`` prefixes inside one
            block.

    Returns:
        tuple: ``(f'{o}.{a}', f'{m}.{b}')`` for each pair.
    """
    inner = tuple(inner)
    return tuple((f'{o}.{a}', f'{m}.{b}') for o, m in outer for a, b in inner)


def split_rows(*names: str, new_dim: Optional[int] = None) -> Transform:
    """Cut dimension 0 into ``len(names)`` equal blocks, one per mmemo key.

    A fused k/v ``Linear`` (rows k, then v) or ``nn.MultiheadAttention``'s
    ``in_proj_weight`` / ``in_proj_bias`` (q, k, v thirds).

    Args:
        names (str): The mmemo keys of the blocks, in row order.
        new_dim (int, optional): Insert a dimension of size 1 here in each
            block.

    Returns:
        callable: The transform; its ``targets`` are ``names``.
    """

    def split(key: Optional[str], tensor: torch.Tensor) -> dict:
        blocks = _equal_blocks(tensor, len(names), 0)
        if new_dim is not None:
            blocks = [block.unsqueeze(new_dim) for block in blocks]
        return dict(zip(names, blocks))

    split.targets = names
    return split


def reorder_blocks(order: Sequence[int],
                   dims: Sequence[int] = (0, )) -> Transform:
    """Cut each of ``dims`` into ``len(order)`` equal blocks and put them
    back in ``order``; the key is the one the rules give.

    ``reorder_blocks((1, 0), dims=(1, ))`` swaps the two halves of the
    columns: a layer whose input is the concatenation ``[video, audio]``
    in the official code and ``[audio, video]`` in mmemo.

    Args:
        order (Sequence[int]): Which official block goes first, second, ...
        dims (Sequence[int]): The dimensions to reorder. Defaults to (0, ).

    Returns:
        callable: The transform.
    """

    def reorder(key: Optional[str], tensor: torch.Tensor) -> dict:
        for dim in dims:
            blocks = _equal_blocks(tensor, len(order), dim)
            tensor = torch.cat([blocks[i] for i in order], dim)
        return {key: tensor}

    return reorder


def _equal_blocks(tensor: torch.Tensor, num: int, dim: int) -> list:
    if tensor.dim() <= dim or tensor.shape[dim] % num:
        raise ValueError(f'shape {list(tensor.shape)} does not split into '
                         f'{num} equal blocks along dimension {dim}')
    return list(tensor.chunk(num, dim))


def _parse(rules: Iterable[Rule]) -> List[Tuple[tuple, tuple]]:
    parsed = []
    for src, dst in rules:
        src, dst = tuple(src.split('.')), tuple(dst.split('.'))
        if src.count('*') != dst.count('*'):
            raise ValueError(f'rule {".".join(src)!r} -> {".".join(dst)!r}: '
                             'both sides need the same number of "*"')
        parsed.append((src, dst))
    # the most specific rule first: more components, then fewer wildcards
    return sorted(parsed, key=lambda rule: (-len(rule[0]), rule[0].count('*')))


def _rename(rules: List[Tuple[tuple, tuple]], key: str) -> Optional[str]:
    parts = key.split('.')
    for src, dst in rules:
        if len(src) > len(parts) or any(
                s not in ('*', p) for s, p in zip(src, parts)):
            continue
        carried = iter(p for s, p in zip(src, parts) if s == '*')
        head = [next(carried) if d == '*' else d for d in dst]
        return '.'.join(head + parts[len(src):])
    return None


@dataclass(frozen=True)
class OfficialLayout:
    """One official model's state dict, mapped onto an mmemo model.

    The mmemo keys (rule targets, transform targets, ``no_counterpart``)
    are relative to ``scope``.

    Args:
        name (str): The variant's name, e.g. ``'jmt_fc'``.
        repo (str): The official GitHub repository, ``owner/name``.
        commit (str): The commit whose code the layout was verified at.
        official_class (str): The official model class.
        config (str): The mmemo config (path in the repository).
        scope (str): ``''`` (the whole mmemo model) or the submodule the
            keys are relative to, e.g. ``'cls_head'``.
        renames (Sequence[tuple]): ``(official prefix, mmemo prefix)``
            rules.
        transforms (Mapping[str, callable]): Official key -> transform, for
            tensors that are not plain copies.
        unused (Sequence[str]): Official tensors (or module prefixes) the
            official model builds but never uses: dropped.
        no_counterpart (Sequence[str]): mmemo tensors (or prefixes) the
            official model has no weights for: left to the model's
            initialisation, with a warning.
        signature (str, optional): A key prefix that only this variant's
            checkpoints have (to tell variants apart).
        config_settings (Mapping[str, object]): Settings (dotted paths in
            the config) the mmemo model needs for these tensors.
    """
    name: str
    repo: str
    commit: str
    official_class: str
    config: str
    scope: str = ''
    renames: Sequence[Rule] = ()
    transforms: Mapping[str, Transform] = field(default_factory=dict)
    unused: Sequence[str] = ()
    no_counterpart: Sequence[str] = ()
    signature: Optional[str] = None
    config_settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self):
        rules = _parse(self.renames)
        inverse = _parse(('.'.join(d), '.'.join(s)) for s, d in rules)
        object.__setattr__(self, '_rules', rules)
        object.__setattr__(self, '_inverse', inverse)

    def rename(self, official_key: str) -> Optional[str]:
        """The mmemo key (relative to ``scope``) the rules give, or None."""
        return _rename(self._rules, official_key)

    def source_of(self, mmemo_key: str) -> Optional[str]:
        """The official key that fills ``mmemo_key`` (relative to
        ``scope``), or None if the layout has none."""
        for official_key, transform in self.transforms.items():
            targets = getattr(transform, 'targets',
                              (self.rename(official_key), ))
            if mmemo_key in targets:
                return official_key
        official_key = _rename(self._inverse, mmemo_key)
        if official_key is None or self.rename(official_key) != mmemo_key:
            return None
        return official_key

    def is_unused(self, official_key: str) -> bool:
        """Whether the official model never uses this tensor."""
        return _under(official_key, self.unused)

    def has_no_counterpart(self, mmemo_key: str) -> bool:
        """Whether the official model has no weights for this tensor."""
        return _under(mmemo_key, self.no_counterpart)

    def matches(self, official_keys: Iterable[str]) -> bool:
        """Whether a state dict with these keys is of this variant."""
        return self.signature is None or any(
            _under(key, (self.signature, )) for key in official_keys)


def _under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + '.') for p in prefixes)
