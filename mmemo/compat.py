# Copyright (c) mmemo contributors. All rights reserved.
"""Shims that make the frozen OpenMMLab stack work on today's Python stack.

mmaction2 1.2.0 (2023) and mmengine 0.10.7 are the last releases; both break
on torch >= 2.6, NumPy 2 and setuptools >= 82, and the mmaction2 wheel lacks a
package. ``import mmemo`` calls :func:`apply` before anything else, so the
fixes are in place before ``mmaction.models`` or a Runner is touched. Each shim
first checks whether upstream still has the problem and does nothing when it
does not, so a fixed upstream release takes over by itself. The shims that
ran are listed in :data:`APPLIED`.

+---------------------+--------------------------------------------------+
| shim                | upstream problem                                 |
+=====================+==================================================+
| ``drn_stub``        | the mmaction2 1.2.0 wheel lacks                  |
|                     | ``mmaction/models/localizers/drn``, so           |
|                     | ``import mmaction.models`` fails                 |
| ``importlib_        | mmaction2 imports the undeclared                 |
| metadata``          | ``importlib_metadata``                           |
| ``package_utils``   | mmengine needs ``pkg_resources`` (gone in        |
|                     | setuptools 82) for ``mmaction::`` configs, and   |
|                     | returns a wrong path for editable installs       |
| ``mmcv_lite_        | mmcv-lite warns about its missing ops at every   |
| warning``           | ``mmcv.cnn`` import                              |
| ``mmemo_configs``   | ``mmemo::`` config paths are unknown to mmengine |
|                     | (and it wants a folder in them)                  |
| ``numpy2``          | NumPy 2 removed aliases mmaction2 uses and made  |
|                     | ``ColorJitter``'s hue shift overflow (NEP 50)    |
| ``checkpoint``      | torch >= 2.6 ``weights_only`` vs mmengine's      |
|                     | loaders; see the policy below                    |
| ``cpu_distributed`` | torchrun on a machine without CUDA: mmengine     |
|                     | calls ``torch.cuda.set_device`` and passes       |
|                     | ``device_ids`` to DDP                            |
| ``test_metrics_     | every rank of a distributed test writes the same |
| dump``              | metrics JSON file at once                        |
| ``multimodal_       | with ``transformers`` installed (mmemo's text    |
| without_timm``      | encoder) but no ``timm``, ``import               |
|                     | mmaction.models`` fails in VindLU                |
+---------------------+--------------------------------------------------+

Checkpoint policy (stricter than mmengine main, which simply turns
``weights_only`` off): a checkpoint given as ``load_from``, ``--checkpoint``,
``init_cfg.checkpoint`` or a URL is unpickled with ``weights_only=True``;
only the plain types mmengine's own checkpoints hold are allowed (NumPy
arrays, scalars and dtypes, and ``HistoryBuffer``, whose pickled state is
reduced to arrays). Resuming from the run's own ``work_dir`` may fall back to
full unpickling for older checkpoints. Anything else that would need to run
code while unpickling is refused with :class:`UnsafeCheckpointError`.
URLs are downloaded resumably into the torch hub cache, and a file or URL
named ``...-<sha256 prefix>.pth`` must match that hash
(:mod:`mmemo.utils.hub`).
"""
import contextvars
import functools
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import logging
import os
import os.path as osp
import pickle
import sys
from typing import Callable, List, Optional

APPLIED: List[str] = []
_ORIGINALS: dict = {}


def _record(name: str) -> None:
    if name not in APPLIED:
        APPLIED.append(name)


# ---------------------------------------------------------------------------
# mmaction2 1.2.0: missing ``mmaction.models.localizers.drn`` package
# ---------------------------------------------------------------------------
_DRN_MODULES = ('mmaction.models.localizers.drn',
                'mmaction.models.localizers.drn.drn')


class _MissingDRN:
    """Placeholder for mmaction2's DRN localizer, absent from its wheel."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'mmaction.models.localizers.drn is missing from the mmaction2 '
            '1.2.0 wheel (open-mmlab/mmaction2#2714); mmemo serves a stub so '
            'that `import mmaction.models` works. Install mmaction2 from a '
            'source checkout to use DRN.')


class _DrnStubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve a stub for the DRN package only when nothing else provides it.

    The finder is *appended* to ``sys.meta_path``, so it is consulted only
    after the regular path finder failed: a fixed mmaction2 wheel wins.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _DRN_MODULES:
            return None
        is_package = fullname == _DRN_MODULES[0]
        return importlib.machinery.ModuleSpec(
            fullname, self, is_package=is_package)

    def create_module(self, spec):
        return None  # default module creation

    def exec_module(self, module):
        module.__mmemo_stub__ = True
        if module.__name__ == _DRN_MODULES[0]:
            module.__path__ = []
        else:
            module.DRN = _MissingDRN


def install_drn_stub() -> bool:
    """Append the DRN stub finder to ``sys.meta_path`` (once)."""
    if any(isinstance(f, _DrnStubFinder) for f in sys.meta_path):
        return True
    sys.meta_path.append(_DrnStubFinder())
    _record('drn_stub')
    return True


# ---------------------------------------------------------------------------
# mmaction2 1.2.0 imports ``importlib_metadata`` without declaring it
# ---------------------------------------------------------------------------
def alias_importlib_metadata() -> bool:
    """Alias the stdlib ``importlib.metadata`` when the backport is absent.

    mmaction2 uses only ``distribution`` and ``PackageNotFoundError``, which
    the standard library has had since Python 3.8.
    """
    try:
        import importlib_metadata  # noqa: F401
        return False
    except ImportError:
        sys.modules['importlib_metadata'] = importlib.metadata
    _record('importlib_metadata')
    return True


# ---------------------------------------------------------------------------
# mmcv-lite: a warning about its missing ops at every ``mmcv.cnn`` import
# ---------------------------------------------------------------------------
def quiet_mmcv_lite_warning() -> bool:
    """Silence mmcv-lite's ``MultiScaleDeformableAttention`` warning.

    mmcv-lite has no compiled ``mmcv.ops``; mmcv warns about one op of them
    at every import of ``mmcv.cnn``, although neither mmaction2's recognizers
    nor mmemo use it. Only that message is filtered, only without the ops.
    """
    import warnings
    if importlib.util.find_spec('mmcv._ext') is not None:
        return False
    warnings.filterwarnings(
        'ignore',
        message='Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)
    _record('mmcv_lite_warning')
    return True


# ---------------------------------------------------------------------------
# mmengine 0.10.7: ``pkg_resources`` (setuptools < 82) for package lookups
# ---------------------------------------------------------------------------
def _module_of(package: str) -> str:
    """Top-level module of a distribution (``mmaction2`` -> ``mmaction``)."""
    try:
        top_level = importlib.metadata.distribution(package).read_text(
            'top_level.txt')
    except importlib.metadata.PackageNotFoundError:
        top_level = None
    if top_level and top_level.split():
        return top_level.split()[0]
    return package.replace('-', '_')


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` on ``importlib.metadata``.

    Args:
        package (str): Distribution or module name.

    Returns:
        bool: Whether it can be imported or has installed metadata.
    """
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` on ``importlib``.

    Uses the import system rather than the distribution's location, so
    editable installs (whose metadata lives in site-packages while the code
    stays in the checkout) resolve to the code.

    Args:
        package (str): Distribution or module name.

    Returns:
        str: The directory of the package's top-level module.
    """
    module = _module_of(package)
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise importlib.metadata.PackageNotFoundError(package)
    if spec.origin is None:
        raise RuntimeError(f'{package} is a namespace package, which is '
                           'invalid for `get_installed_path`')
    return osp.dirname(spec.origin)


def patch_package_utils() -> bool:
    """Swap mmengine's pkg_resources-based helpers for importlib ones."""
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    upstream = package_utils.is_installed
    if 'pkg_resources' not in upstream.__code__.co_names:
        return False  # upstream moved to importlib already
    _ORIGINALS['is_installed'] = upstream
    _ORIGINALS['get_installed_path'] = package_utils.get_installed_path
    for module in (package_utils, utils_module, config_module):
        module.is_installed = is_installed
    for module in (package_utils, utils_module, config_module, hub_module):
        module.get_installed_path = get_installed_path
    _record('package_utils')
    return True


def _package_and_cfg_path(cfg_path: str):
    """mmengine's ``_get_package_and_cfg_path`` that also accepts a config
    at the top of ``configs/`` (``mmemo::avtca_synth.py``); upstream wants a
    folder in the path (``mmdet::faster_rcnn/...``)."""
    import re
    match = re.fullmatch(r'(\w+)::([\w.-]+\.py)', cfg_path)
    if match is None:
        return _ORIGINALS['_get_package_and_cfg_path'](cfg_path)
    from mmengine.config.utils import MODULE2PACKAGE
    package, path = match.groups()
    assert package in MODULE2PACKAGE, (
        f'mmengine does not support to load {package} config.')
    return MODULE2PACKAGE[package], path


def register_config_package() -> bool:
    """Let mmengine resolve ``mmemo::`` config paths, including the configs
    at the top of ``configs/`` (``mmemo::avtca_synth.py``)."""
    import mmengine.config.config as config_module
    import mmengine.config.utils as config_utils
    import mmengine.hub.hub as hub_module
    from mmengine.config.utils import MODULE2PACKAGE
    if 'mmemo' in MODULE2PACKAGE:
        return False
    MODULE2PACKAGE['mmemo'] = 'mmemo'
    try:
        config_utils._get_package_and_cfg_path('mmemo::toy_av.py')
    except ValueError:  # upstream needs a folder in the path
        _ORIGINALS['_get_package_and_cfg_path'] = \
            config_utils._get_package_and_cfg_path
        for module in (config_utils, config_module, hub_module):
            module._get_package_and_cfg_path = _package_and_cfg_path
    _record('mmemo_configs')
    return True


# ---------------------------------------------------------------------------
# NumPy 2: removed aliases and NEP 50 overflow in ColorJitter
# ---------------------------------------------------------------------------
def _in1d(ar1, ar2, assume_unique=False, invert=False):
    import numpy as np
    return np.isin(
        np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)


def restore_numpy_aliases() -> bool:
    """Restore the NumPy 1 names that mmaction2 1.2.0 still uses."""
    import numpy as np
    if int(np.__version__.split('.')[0]) < 2:
        return False
    aliases = dict(
        Inf=np.inf,
        NAN=np.nan,
        trapz=getattr(np, 'trapezoid', None),
        in1d=_in1d)
    restored = False
    for name, value in aliases.items():
        if value is not None and not hasattr(np, name):
            setattr(np, name, value)
            restored = True
    if restored:
        _record('numpy2_aliases')
    return restored


def _adjust_hue(img, factor):
    """``ColorJitter.adjust_hue`` with the hue sum done in int32.

    Under NEP 50 ``uint8_array + negative_int`` raises OverflowError instead
    of promoting, which broke mmaction2's version for about half the samples.
    """
    import cv2
    import numpy as np
    img = np.clip(img, 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    offset = int(factor * 255)
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + offset) % 180
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return img.astype(np.float32)


def patch_colorjitter_hue() -> bool:
    """Fix ``mmaction.ColorJitter`` when its hue shift overflows."""
    import numpy as np
    from mmaction.datasets.transforms.processing import ColorJitter
    try:
        ColorJitter.adjust_hue(np.zeros((1, 1, 3), np.float32), -0.1)
        return False  # works: NumPy 1, or fixed upstream
    except OverflowError:
        pass
    _ORIGINALS['adjust_hue'] = ColorJitter.adjust_hue
    ColorJitter.adjust_hue = staticmethod(_adjust_hue)
    _record('numpy2_colorjitter')
    return True


# ---------------------------------------------------------------------------
# Checkpoint loading under torch >= 2.6 (weights_only=True by default)
# ---------------------------------------------------------------------------
class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs more than plain data to be unpickled."""


# Files being resumed from the runner's own work_dir (see patch of
# ``Runner.resume``); only these may fall back to full unpickling.
_TRUSTED_RESUME: contextvars.ContextVar = contextvars.ContextVar(
    'mmemo_trusted_resume', default=None)
_HISTORY_BUFFER_DEFAULTS = ('min', 'max', 'current', 'mean')


def checkpoint_safe_globals() -> list:
    """The plain, non-tensor types found in mmengine's own checkpoints.

    Returns:
        list: Classes and functions for ``torch.serialization.safe_globals``:
        NumPy arrays, scalars and dtypes (``HistoryBuffer`` and metric values
        in the message hub) and ``HistoryBuffer`` itself. None of them runs
        code when rebuilt; ``builtins.getattr`` is deliberately absent.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    multiarray = getattr(np, '_core', None) or np.core
    multiarray = multiarray.multiarray
    dtype_classes = {type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDG'}
    return [
        np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
        HistoryBuffer, *sorted(dtype_classes, key=lambda c: c.__name__)
    ]


def _refusal(source: str, error: Exception) -> UnsafeCheckpointError:
    reason = str(error).strip().splitlines()
    detail = next(
        (line.strip()
         for line in reason if 'GLOBAL' in line or 'Unsupported' in line),
        reason[0] if reason else repr(error))
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {source!r}: it is not a plain '
        f'weights-only file ({detail}). Unpickling it could run arbitrary '
        'code, so mmemo loads checkpoints given as `load_from`, '
        '`--checkpoint`, `init_cfg.checkpoint` or a URL with '
        '`torch.load(weights_only=True)`. If the file comes from your own '
        'training run, resume it from its work_dir (`tools/train.py CONFIG '
        '--resume`); if you trust it otherwise, re-save only its '
        '`state_dict` and `meta` with '
        '`torch.save(dict(state_dict=c["state_dict"], meta=c.get("meta", '
        '{})), out)` after `c = torch.load(path, weights_only=False)`.')


def safe_torch_load(f, map_location=None, source: Optional[str] = None):
    """Load a checkpoint under mmemo's checkpoint policy.

    Args:
        f (str | file-like): What to pass to :func:`torch.load`.
        map_location: As in :func:`torch.load`.
        source (str, optional): The name the user gave (path or URL), used
            in messages and to recognise trusted resumes. Defaults to ``f``.

    Returns:
        The unpickled checkpoint.

    Raises:
        UnsafeCheckpointError: If unpickling needs a non-allowed global and
            the file is not a resume from the runner's own work_dir.
    """
    import torch
    from mmengine.logging import print_log
    source = str(f) if source is None else source
    trusted = _TRUSTED_RESUME.get()
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if trusted is None or not isinstance(f, str) or \
                osp.realpath(f) != trusted:
            raise _refusal(source, error) from error
        print_log(
            f'{source} is not a weights-only checkpoint '
            f'({type(error).__name__}); loading the full training state '
            "because it is a resume from this run's own work_dir.",
            logger='current',
            level=logging.WARNING)
        return torch.load(f, map_location=map_location, weights_only=False)


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
    and unpickles with ``weights_only=True``; torch's own
    ``load_state_dict_from_url`` would unpickle it fully.
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
    ``getattr(HistoryBuffer, 'min')`` and so needs ``builtins.getattr`` to
    load. ``__setstate__`` restores the default methods anyway, so only
    user-registered ones are kept.
    """
    from mmengine.logging import HistoryBuffer
    state = {
        k: v
        for k, v in self.__dict__.items() if k != 'statistics_methods'
    }
    custom = {
        name: method
        for name, method in self._statistics_methods.items()
        if not (name in _HISTORY_BUFFER_DEFAULTS
                and method is getattr(HistoryBuffer, name))
    }
    if custom:
        state['statistics_methods'] = custom
    return state


def _own_checkpoint(work_dir: Optional[str], filename) -> Optional[str]:
    """Real path of ``filename`` if it is this run's own checkpoint."""
    if not work_dir or not isinstance(filename, str) or '://' in filename:
        return None
    path = osp.realpath(osp.expanduser(filename))
    work_dir = osp.realpath(work_dir)
    if path.startswith(work_dir + os.sep):
        return path
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            if osp.realpath(f.read().strip()) == path:
                return path
    return None


def patch_checkpoint_loading() -> bool:
    """Install the checkpoint policy into mmengine's loaders."""
    import mmengine.runner.checkpoint as ckpt
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import Runner
    if 'checkpoint' in APPLIED:
        return True

    # Loaders: the scheme table and the module globals that other schemes
    # (open-mmlab://, torchvision://, mmcls://) call directly.
    _ORIGINALS['load_from_local'] = ckpt.load_from_local
    _ORIGINALS['load_from_http'] = ckpt.load_from_http
    ckpt.CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    ckpt.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http, force=True)
    ckpt.load_from_local = load_from_local
    ckpt.load_from_http = load_from_http

    # Our own checkpoints stay weights-only loadable.
    if 'statistics_methods' in HistoryBuffer().__getstate__():
        _ORIGINALS['HistoryBuffer.__getstate__'] = HistoryBuffer.__getstate__
        HistoryBuffer.__getstate__ = _history_buffer_getstate

    # A resume from the run's own work_dir is trusted.
    resume = Runner.resume

    @functools.wraps(resume)
    def trusted_resume(self, filename, *args, **kwargs):
        token = _TRUSTED_RESUME.set(_own_checkpoint(self.work_dir, filename))
        try:
            return resume(self, filename, *args, **kwargs)
        finally:
            _TRUSTED_RESUME.reset(token)

    _ORIGINALS['Runner.resume'] = resume
    Runner.resume = trusted_resume
    _record('checkpoint')
    return True


# ---------------------------------------------------------------------------
# torchrun / slurm on machines without CUDA
# ---------------------------------------------------------------------------
def _without_cuda_device(init_fn: Callable) -> Callable:
    """Run an mmengine ``_init_dist_*`` function on a CUDA-less machine.

    It calls ``torch.cuda.set_device`` unconditionally; without CUDA that is
    skipped and the default ``nccl`` backend becomes ``gloo``.
    """

    @functools.wraps(init_fn)
    def init(backend, *args, **kwargs):
        import torch
        if torch.cuda.is_available():
            return init_fn(backend, *args, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'
        set_device = torch.cuda.set_device
        torch.cuda.set_device = lambda device: None
        try:
            return init_fn(backend, *args, **kwargs)
        finally:
            torch.cuda.set_device = set_device

    init.__mmemo_cpu_shim__ = True
    return init


def patch_cpu_distributed() -> bool:
    """Make torchrun/slurm launches work on CPU-only machines."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel
    if getattr(dist_utils._init_dist_pytorch, '__mmemo_cpu_shim__', False):
        return True
    for name in ('_init_dist_pytorch', '_init_dist_slurm'):
        _ORIGINALS[name] = getattr(dist_utils, name)
        setattr(dist_utils, name, _without_cuda_device(_ORIGINALS[name]))

    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(ddp_init)
    def init(self, module, *args, **kwargs):
        import torch

        # Runner.wrap_model passes device_ids=[LOCAL_RANK]; DDP refuses
        # device_ids for a module on the CPU.
        if not torch.cuda.is_available() and all(p.device.type == 'cpu'
                                                 for p in module.parameters()):
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        ddp_init(self, module, *args, **kwargs)

    _ORIGINALS['MMDistributedDataParallel.__init__'] = ddp_init
    MMDistributedDataParallel.__init__ = init
    _record('cpu_distributed')
    return True


# ---------------------------------------------------------------------------
# mmengine 0.10.7: every rank writes the test metrics file
# ---------------------------------------------------------------------------
def _after_test_epoch(self, runner, metrics=None) -> None:
    """``LoggerHook.after_test_epoch``, writing the JSON on rank 0 only."""
    from mmengine import dist
    from mmengine.fileio import dump
    tag, log_str = runner.log_processor.get_log_after_epoch(
        runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
    runner.logger.info(log_str)
    if dist.get_rank() == 0:
        dump(
            self._process_tags(tag),
            osp.join(runner.log_dir, self.json_log_path))


def patch_test_metrics_dump() -> bool:
    """Stop all ranks of a distributed test writing one JSON file at once.

    Upstream, each rank dumps the test metrics to ``<timestamp>.json`` in the
    shared log dir, so the file is sometimes truncated or garbled.
    """
    from mmengine.hooks import LoggerHook
    code = LoggerHook.after_test_epoch.__code__
    if 'dump' not in code.co_names or {
            'get_rank', 'is_main_process', 'master_only'
    } & set(code.co_names):
        return False  # ours already, or upstream checks the rank
    _ORIGINALS['LoggerHook.after_test_epoch'] = LoggerHook.after_test_epoch
    LoggerHook.after_test_epoch = _after_test_epoch
    _record('test_metrics_dump')
    return True


# ---------------------------------------------------------------------------
# mmaction2 1.2.0: VindLU needs timm, but only transformers is checked
# ---------------------------------------------------------------------------
def skip_multimodal_without_timm() -> bool:
    """Keep ``import mmaction.models`` working without ``timm``.

    mmaction2 imports its VindLU models as soon as ``transformers>=4.28`` is
    installed (``mmaction.utils.dependency.WITH_MULTIMODAL``), and they
    import ``timm``, which neither mmaction2 nor mmemo requires. With
    ``transformers`` (mmemo's optional text encoder) but no ``timm``, the
    flag is turned off before ``mmaction.models`` is imported, so mmaction2
    registers its placeholders for the VindLU models instead (building one
    says what to install).
    """
    if importlib.util.find_spec('timm') is not None:
        return False
    from mmaction.utils import dependency
    if not dependency.WITH_MULTIMODAL or \
            'mmaction.models.multimodal' in sys.modules:
        return False
    dependency.WITH_MULTIMODAL = False
    _record('multimodal_without_timm')
    return True


def apply() -> List[str]:
    """Apply every shim that the installed stack needs (idempotent).

    Returns:
        list[str]: Names of the shims in effect.
    """
    install_drn_stub()
    alias_importlib_metadata()
    quiet_mmcv_lite_warning()
    patch_package_utils()
    register_config_package()
    restore_numpy_aliases()
    patch_colorjitter_hue()
    patch_checkpoint_loading()
    patch_cpu_distributed()
    patch_test_metrics_dump()
    skip_multimodal_without_timm()
    return list(APPLIED)


__all__ = [
    'APPLIED', 'UnsafeCheckpointError', 'apply', 'checkpoint_safe_globals',
    'get_installed_path', 'is_installed', 'load_from_http', 'load_from_local',
    'safe_torch_load'
]
