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

The checkpoint policy itself (one restricted loader for every checkpoint,
resume included) is :mod:`mmemo.checkpoint`; this module only installs it.
"""
import functools
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import os.path as osp
import sys
from typing import Callable, List

# the checkpoint policy, re-exported for code that imported it from here
from .checkpoint import (UnsafeCheckpointError, checkpoint_safe_globals,
                         load_from_http, load_from_local, safe_torch_load)

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


def shift_hue(hue, offset: int):
    """``(hue + offset) % 180`` on a uint8 hue plane as NumPy 1 computed it.

    NumPy 1's value-based casting kept ``uint8 + offset`` in uint8 when the
    offset fits in uint8 (0..255: the sum wraps at 256 before the ``% 180``,
    which matters for hue factors above 0.30) and promoted to int16 for a
    negative offset (no wrap). NumPy 2 (NEP 50) raises OverflowError for
    the negative case instead, so mmaction2's expression is redone here with
    NumPy 1's result for every offset.
    """
    import numpy as np
    wide = hue.astype(np.int32) + offset
    if 0 <= offset <= 255:
        wide %= 256  # the uint8 sum wrapped
    return (wide % 180).astype(np.uint8)


def _adjust_hue(img, factor):
    """``ColorJitter.adjust_hue`` with NumPy 1's hue arithmetic."""
    import cv2
    import numpy as np
    img = np.clip(img, 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = shift_hue(hsv[..., 0], int(factor * 255))
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
def patch_checkpoint_loading() -> bool:
    """mmengine 0.10.7's loaders unpickle fully or fail on torch >= 2.6:
    install mmemo's restricted loader (:mod:`mmemo.checkpoint`)."""
    from . import checkpoint
    if 'checkpoint' in APPLIED:
        return True
    checkpoint.patch_checkpoint_loading()
    _ORIGINALS.update({
        k: v
        for k, v in checkpoint._ORIGINALS.items()
    })
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
# DataLoader workers outlive a killed trainer
# ---------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def exit_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies.

    A DataLoader worker notices a dead main process only at its watchdog's
    next check (up to 5 s, and not while it decodes a sample), so after
    ``kill -9`` of a trainer its workers keep decoding and hold memory;
    with this they end at once. A no-op elsewhere.

    Returns:
        bool: Whether the request was made.
    """
    if not sys.platform.startswith('linux'):
        return False
    import ctypes
    import signal
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0


def _worker_init_with_parent(worker_id: int, *args, **kwargs) -> None:
    """mmengine's ``worker_init_fn``, then :func:`exit_with_parent`."""
    _ORIGINALS['worker_init_fn'](worker_id, *args, **kwargs)
    exit_with_parent()


def patch_worker_exit_with_parent() -> bool:
    """Make the Runner's DataLoader workers die with the trainer (the
    ``worker_init_fn`` it uses whenever a seed is set, i.e. always)."""
    import mmengine.runner.runner as runner_module
    if runner_module.default_worker_init_fn is _worker_init_with_parent:
        return True
    _ORIGINALS['worker_init_fn'] = runner_module.default_worker_init_fn
    runner_module.default_worker_init_fn = _worker_init_with_parent
    _record('worker_exit_with_parent')
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
    patch_worker_exit_with_parent()
    skip_multimodal_without_timm()
    return list(APPLIED)


__all__ = [
    'APPLIED', 'UnsafeCheckpointError', 'apply', 'checkpoint_safe_globals',
    'get_installed_path', 'is_installed', 'load_from_http', 'load_from_local',
    'safe_torch_load'
]
