# Copyright (c) mmemo contributors. All rights reserved.
"""mmemo's checkpoint policy: one restricted loader for every checkpoint.

Unpickling a checkpoint can run any code its author chose. Every checkpoint
mmemo reads -- ``load_from``, ``init_cfg=dict(type='Pretrained')``,
``tools/test.py CKPT``, a URL, ``--resume`` (the run's own work_dir
included) -- goes through :func:`safe_torch_load`: torch's weights-only
unpickler with an allow-list of exactly named globals,

- what torch allows by default (tensors, parameters, ``OrderedDict``, plain
  containers and scalars, ``torch.Size`` / dtypes / devices);
- NumPy arrays, scalars and dtypes of every kind, strings and objects
  included, under the names NumPy 1 (``numpy.core``) and NumPy 2
  (``numpy._core``) pickle them with;
- MMEngine's ``HistoryBuffer`` (the message hub of every MMEngine
  checkpoint), rebuilt through a checked ``__setstate__``, and the one use
  of ``builtins.getattr`` that upstream MMEngine pickles with it:
  ``getattr(HistoryBuffer, 'min' | 'max' | 'current' | 'mean')``.

Nothing else: no other callable (``builtins.getattr`` on anything else,
``eval``, ``os.system``, ...) is ever called. A refused file raises
:class:`UnsafeCheckpointError` naming the global or type it needed.
"""
import functools
import os
import os.path as osp
import pickle
import re
from typing import List, Optional

#: The statistics methods an upstream ``HistoryBuffer`` pickles by name.
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
_HISTORY_BUFFER = 'mmengine.logging.history_buffer.HistoryBuffer'

_ORIGINALS: dict = {}


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs more than plain data to be unpickled."""


# ------------------------------------------------------------ allow-list
def _checked_getattr(obj, name: str):
    """``builtins.getattr`` as a checkpoint may use it: only the statistics
    methods of ``HistoryBuffer`` (how upstream MMEngine pickles them)."""
    from mmengine.logging import HistoryBuffer
    if obj in (HistoryBuffer, _history_buffer_class()) and \
            name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'builtins.getattr({getattr(obj, "__qualname__", type(obj))!r}, '
        f'{name!r}) is not allowed')


@functools.lru_cache(maxsize=1)
def _history_buffer_class():
    """``HistoryBuffer`` whose unpickling checks the state it is given and
    then becomes a plain ``HistoryBuffer``."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    class CheckedHistoryBuffer(HistoryBuffer):

        def __setstate__(self, state):
            if not isinstance(state, dict):
                raise UnsafeCheckpointError(
                    f'{_HISTORY_BUFFER}: state is a {type(state).__name__}')
            allowed = {
                'max_length': int,
                '_log_history': np.ndarray,
                '_count_history': np.ndarray,
                'statistics_methods': dict,
            }
            for key, value in state.items():
                if key not in allowed or not isinstance(value, allowed[key]):
                    raise UnsafeCheckpointError(
                        f'{_HISTORY_BUFFER}: unexpected state {key!r} '
                        f'({type(value).__name__})')
            for name, method in state.get('statistics_methods', {}).items():
                if method is not getattr(HistoryBuffer, name, None):
                    raise UnsafeCheckpointError(
                        f'{_HISTORY_BUFFER}: statistics method {name!r} is '
                        'not one of its own')
            self.__class__ = HistoryBuffer
            HistoryBuffer.__setstate__(self, dict(state))

    return CheckedHistoryBuffer


def checkpoint_safe_globals() -> list:
    """The globals mmemo's loader allows beyond torch's defaults.

    Returns:
        list: Entries for ``torch.serialization.safe_globals``: objects, or
        ``(object, 'the.name.it.is.pickled.under')``.
    """
    import numpy as np
    core = getattr(np, '_core', None) or np.core
    multiarray = core.multiarray
    dtype_classes = {
        type(np.dtype(code))
        for code in '?bBhHiIlLqQefdgFDGSUVOMm'
    }
    entries = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries += [(multiarray._reconstruct, f'{module}._reconstruct'),
                    (multiarray.scalar, f'{module}.scalar')]
    entries += sorted(dtype_classes, key=lambda c: c.__name__)
    entries += [(_history_buffer_class(), _HISTORY_BUFFER),
                (_checked_getattr, 'builtins.getattr')]
    return entries


def allowed_global_names() -> List[str]:
    """The names of :func:`checkpoint_safe_globals`."""
    names = []
    for entry in checkpoint_safe_globals():
        if isinstance(entry, tuple):
            names.append(entry[1])
        else:
            names.append(f'{entry.__module__}.{entry.__qualname__}')
    return names


# ---------------------------------------------------------------- loading
def _offender(error: Exception) -> str:
    """What the file needed, from torch's (or our) message."""
    text = str(error)
    for pattern in (r'GLOBAL ([\w.]+)', r'but got (<class [^>]+>)',
                    r'unrecognized function (.+?)(?:\n|$| which)',
                    r'(builtins\.getattr\([^)]*\))',
                    rf'({re.escape(_HISTORY_BUFFER)}: [^\n]+)'):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _refusal(source: str, error: Exception) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'{source}: refused to load the checkpoint: it needs '
        f'{_offender(error)}, which mmemo does not allow (unpickling it could '
        'run arbitrary code). mmemo loads tensors, NumPy arrays and scalars, '
        'plain containers and MMEngine\'s HistoryBuffer (see '
        'mmemo/checkpoint.py). If you trust the file, unpickle it yourself '
        'and re-save only its `state_dict` and `meta` with torch.save.')


def safe_torch_load(f, map_location=None, source: Optional[str] = None):
    """Load a checkpoint with mmemo's restricted unpickler.

    Args:
        f (str | file-like): What to pass to :func:`torch.load`.
        map_location: As in :func:`torch.load`.
        source (str, optional): The name the user gave (path or URL), for
            messages. Defaults to ``f``.

    Returns:
        The unpickled checkpoint.

    Raises:
        UnsafeCheckpointError: The file needs a global or type that is not
            allowed; the message names it.
    """
    import torch
    source = str(f) if source is None else source
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise _refusal(source, error) from error


def load_from_local(filename: str, map_location=None):
    """mmengine's local-file checkpoint loader under the mmemo policy.

    A name ending in ``-<sha256 prefix>.pth`` is checked against the file
    (:func:`mmemo.utils.hub.verify_checkpoint_hash`).
    """
    from mmemo.utils.hub import verify_checkpoint_hash
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    verify_checkpoint_hash(filename)
    return safe_torch_load(filename, map_location, source=filename)


def load_from_http(filename: str,
                   map_location=None,
                   model_dir: Optional[str] = None,
                   progress: bool = os.isatty(0)):
    """mmengine's URL checkpoint loader under the mmemo policy.

    Downloads into the torch hub cache (rank 0 first, as mmengine does),
    resumably and hash-checked (:func:`mmemo.utils.hub.download_checkpoint`),
    then loads with :func:`safe_torch_load`; torch's own
    ``load_state_dict_from_url`` would unpickle anything.
    """
    import torch
    from mmengine.dist import get_dist_info

    from mmemo.utils.hub import download_checkpoint
    rank, world_size = get_dist_info()
    if rank == 0:
        cached = download_checkpoint(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            cached = download_checkpoint(filename, model_dir, progress)
    return safe_torch_load(cached, map_location, source=filename)


def _history_buffer_getstate(self) -> dict:
    """Pickle a ``HistoryBuffer`` as arrays and numbers only.

    Upstream pickles the class-wide statistics methods, which stores
    ``getattr(HistoryBuffer, 'min')``; ``__setstate__`` restores the default
    methods anyway, so only user-registered ones are kept (our checkpoints
    then need no ``getattr`` at all).
    """
    from mmengine.logging import HistoryBuffer
    # upstream's __getstate__ leaves `statistics_methods` in __dict__
    state = {
        k: v
        for k, v in self.__dict__.items() if k != 'statistics_methods'
    }
    custom = {
        name: method
        for name, method in self._statistics_methods.items()
        if not (name in HISTORY_BUFFER_METHODS
                and method is getattr(HistoryBuffer, name))
    }
    if custom:
        state['statistics_methods'] = custom
    return state


def patch_checkpoint_loading() -> bool:
    """Install the policy into mmengine's checkpoint loaders (every scheme
    and the runner's resume go through them)."""
    import mmengine.runner.checkpoint as ckpt
    from mmengine.logging import HistoryBuffer
    if _ORIGINALS:
        return True
    _ORIGINALS['load_from_local'] = ckpt.load_from_local
    _ORIGINALS['load_from_http'] = ckpt.load_from_http
    # the scheme table, and the module globals that other schemes
    # (open-mmlab://, torchvision://, mmcls://) call directly
    ckpt.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    ckpt.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http, force=True)
    ckpt.load_from_local = load_from_local
    ckpt.load_from_http = load_from_http
    _ORIGINALS['HistoryBuffer.__getstate__'] = HistoryBuffer.__getstate__
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    return True
