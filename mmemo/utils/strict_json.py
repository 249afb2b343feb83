# Copyright (c) mmemo contributors. All rights reserved.
"""Strict JSON for every file mmemo writes.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no
strict parser (JavaScript's ``JSON.parse``, ``jq``, Go, Rust's serde)
accepts. Everything mmemo writes goes through :func:`dump` /
:func:`dumps`: a missing or non-finite value becomes ``null``, NumPy and
torch scalars and arrays become plain numbers and lists, and the encoder
runs with ``allow_nan=False`` so nothing non-finite can slip through.
"""
import json
import math
import os
from typing import IO, Any

import numpy as np


def to_strict(obj: Any) -> Any:
    """A copy of ``obj`` that strict JSON can hold.

    Args:
        obj: Nested dicts / lists / tuples of numbers, strings, NumPy or
            torch values.

    Returns:
        The same structure with NaN / ±Inf as None, NumPy and torch values
        as Python ones, tuples and sets as lists and keys as strings.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, dict):
        return {
            k if isinstance(k, str) else str(k): to_strict(v)
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [to_strict(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_strict(v) for v in sorted(obj, key=str)]
    if isinstance(obj, (np.generic, np.ndarray)):
        return to_strict(obj.tolist())
    if hasattr(obj, 'tolist') and hasattr(obj, 'detach'):  # torch.Tensor
        return to_strict(obj.detach().cpu().tolist())
    return str(obj)  # paths, enums, ...: their text


def dumps(obj: Any, **kwargs) -> str:
    """``json.dumps`` of :func:`to_strict` with ``allow_nan=False``."""
    return json.dumps(to_strict(obj), allow_nan=False, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs) -> None:
    """``json.dump`` of :func:`to_strict` with ``allow_nan=False``."""
    json.dump(to_strict(obj), fp, allow_nan=False, **kwargs)


def dump_atomic(obj: Any, path: str, newline: bool = False, **kwargs) -> None:
    """:func:`dump` to ``path`` through ``path + '.tmp'`` and a rename:
    readers see the old file or the complete new one, never a part.

    Args:
        obj: What to write.
        path (str): The file.
        newline (bool): End the file with a newline. Defaults to False.
        **kwargs: ``json.dump`` options (``indent``, ``sort_keys``, ...).
    """
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        dump(obj, f, **kwargs)
        if newline:
            f.write('\n')
    os.replace(tmp, path)
