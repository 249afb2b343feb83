# Copyright (c) mmemo contributors. All rights reserved.
"""Each shim of :mod:`mmemo.compat` against the upstream problem it fixes."""
import importlib.machinery
import os.path as osp
import sys
import textwrap

import numpy as np
import pytest
from helpers import free_port, run

import mmemo
from mmemo import compat

NUMPY2 = int(np.__version__.split('.')[0]) >= 2


def run_python(code: str, **env):
    return run([sys.executable, '-c', textwrap.dedent(code)], **env)


# ----------------------------------------------------------------- drn stub
def test_drn_stub_lets_mmaction_models_import():
    import mmaction.models  # noqa: F401
    from mmaction.models.localizers.drn.drn import DRN
    from mmaction.registry import MODELS

    assert 'drn_stub' in compat.APPLIED
    # The stub is a last resort: appended after the regular path finder.
    stub = next(i for i, f in enumerate(sys.meta_path)
                if isinstance(f, compat._DrnStubFinder))
    assert stub > sys.meta_path.index(importlib.machinery.PathFinder)
    # It is not registered and says why when used.
    assert 'DRN' not in MODELS.module_dict
    assert 'Recognizer3D' in MODELS.module_dict
    with pytest.raises(ImportError, match='missing from the mmaction2'):
        DRN()
    assert compat._DrnStubFinder().find_spec('mmaction.models.other') is None


def test_drn_stub_yields_to_a_real_package():
    # A finder earlier in sys.meta_path stands for a fixed mmaction2 wheel.
    proc = run_python('''
        import importlib.abc, importlib.machinery, sys
        class Real(importlib.abc.MetaPathFinder, importlib.abc.Loader):
            def find_spec(self, name, path=None, target=None):
                if name.startswith('mmaction.models.localizers.drn'):
                    return importlib.machinery.ModuleSpec(
                        name, self, is_package=name.endswith('drn'))
            def create_module(self, spec):
                return None
            def exec_module(self, module):
                module.__path__ = []
                module.DRN = 'real DRN'
        sys.meta_path.insert(0, Real())
        import mmemo, mmaction.models
        from mmaction.models.localizers.drn.drn import DRN
        print('DRN =', DRN)
    ''')
    assert 'DRN = real DRN' in proc.stdout


def test_importlib_metadata_alias_when_backport_missing():
    proc = run_python('''
        import sys
        sys.modules['importlib_metadata'] = None  # as if not installed
        import mmemo, mmaction.models
        from mmaction.utils.dependency import distribution
        print('applied:', 'importlib_metadata' in mmemo.compat.APPLIED)
        print('version:', distribution('mmaction2').version)
    ''')
    assert 'applied: True' in proc.stdout
    assert 'version: 1.2.0' in proc.stdout


# --------------------------------------------------------- pkg_resources
MMACTION_BASE_CFG = """
_base_ = 'mmaction::_base_/default_runtime.py'
default_scope = 'mmemo'
"""


def test_mmaction_bases_without_pkg_resources(tmp_path, monkeypatch):
    from mmengine.config import Config

    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(MMACTION_BASE_CFG)
    # setuptools >= 82 has no pkg_resources: make its import fail.
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)
    with pytest.raises(ImportError):
        compat._ORIGINALS['is_installed']('mmaction2')  # upstream breaks
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.default_scope == 'mmemo'  # ours overrides the base
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'


def test_installed_paths_follow_the_import_system():
    import mmaction
    from mmengine.utils import get_installed_path, is_installed

    assert get_installed_path is compat.get_installed_path
    assert is_installed('mmaction2') and is_installed('mmemo')
    assert not is_installed('surely-not-a-package-xyz')
    assert get_installed_path('mmaction2') == osp.dirname(mmaction.__file__)
    # an editable install keeps its metadata in site-packages, its code here
    assert get_installed_path('mmemo') == osp.dirname(mmemo.__file__)


def test_mmemo_config_paths(tmp_path):
    from mmengine.config import Config
    from mmengine.hub import get_config

    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("_base_ = 'mmemo::_base_/default_runtime.py'\n")
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.default_scope == 'mmemo'
    assert cfg.visualizer.type == 'AVVisualizer'
    runtime = get_config('mmemo::_base_/default_runtime.py')
    assert runtime.default_hooks.visualization.type == 'AVVisualizationHook'
    # a config at the top of configs/ (upstream wants a folder in the path)
    cfg_file.write_text("_base_ = 'mmemo::avtca_synth.py'\n")
    assert Config.fromfile(str(cfg_file)).model.type == 'AVRecognizer'
    synth = get_config('mmemo::avtca_synth.py')  # found via model-index.yml
    assert synth.model.fusion_head.type == 'AVTCAHead'


# ------------------------------------------------------------------ NumPy 2
def test_numpy2_removed_aliases_used_by_mmaction():
    from mmaction.datasets.transforms import PoseCompact

    assert ('numpy2_aliases' in compat.APPLIED) == NUMPY2
    # PoseCompact uses np.Inf
    keypoint = np.array([[[[10., 20.], [30., 40.], [0., 0.]]]], np.float32)
    results = PoseCompact(
        hw_ratio=None, padding=0.)(
            dict(keypoint=keypoint.copy(), img_shape=(64, 64)))
    assert results['img_shape'] == (20, 20)
    assert results['keypoint'][0, 0, 0].tolist() == [0., 0.]
    # mmaction's AR@AN uses np.trapz, its retrieval metric np.in1d
    assert np.trapz([1., 2., 3.]) == 4.0
    assert np.in1d([[1, 2], [3, 4]],
                   [2, 3]).tolist() == [False, True, True, False]


def test_numpy2_colorjitter_hue_shift():
    from mmaction.datasets.transforms import ColorJitter

    assert ('numpy2_colorjitter' in compat.APPLIED) == NUMPY2
    img = np.random.default_rng(0).uniform(0, 255,
                                           (8, 8, 3)).astype(np.float32)
    # a negative hue offset overflowed uint8 under NEP 50
    shifted = ColorJitter.adjust_hue(img, -0.1)
    back = ColorJitter.adjust_hue(shifted, 0.1)
    assert shifted.dtype == np.float32 and shifted.shape == img.shape
    assert not np.allclose(shifted, img)
    assert np.abs(back - np.clip(img, 0, 255).astype(np.uint8)).mean() < 8
    jitter = ColorJitter(hue=0.5)
    for seed in range(20):  # about half the draws have a negative hue
        np.random.seed(seed)
        out = jitter(dict(imgs=[img.copy()]))
        assert out['imgs'][0].shape == img.shape


def numpy1_hue_reference(hue: np.ndarray, offset: int) -> np.ndarray:
    """mmaction2's ``(hsv[..., 0] + offset) % 180`` under NumPy 1's
    value-based casting, written out: an offset that fits in uint8 adds in
    uint8 (wrapping at 256), a negative one in int16."""
    if 0 <= offset <= 255:
        total = hue + np.uint8(offset)  # uint8 + uint8 wraps in any NumPy
    else:
        total = hue.astype(np.int16) + np.int16(offset)
    return (total % 180).astype(np.uint8)


def test_hue_shift_has_numpy1_semantics_for_every_factor():
    hue = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for factor in np.linspace(-0.5, 0.5, 1001):
        offset = int(factor * 255)
        with np.errstate(over='ignore'):
            expected = numpy1_hue_reference(hue, offset)
        assert np.array_equal(compat.shift_hue(hue, offset), expected), \
            factor


# ----------------------------------------------------------- CPU torchrun
def test_cpu_distributed_init_and_ddp_wrapper():
    """mmengine's torchrun start-up and DDP wrapping on a CUDA-less host."""
    proc = run_python(
        '''
        import torch, mmemo
        from mmengine.dist import init_dist, get_world_size
        from mmengine.model import MMDistributedDataParallel
        assert not torch.cuda.is_available()
        init_dist('pytorch', backend='nccl')  # what mmaction configs say
        print('backend', torch.distributed.get_backend(), get_world_size())
        model = MMDistributedDataParallel(
            module=torch.nn.Linear(2, 2), device_ids=[0])
        model(torch.ones(1, 2)).sum().backward()
        print('ddp ok', model.device_ids)
        torch.distributed.destroy_process_group()
        ''',
        RANK=0,
        LOCAL_RANK=0,
        WORLD_SIZE=1,
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=free_port(),
        CUDA_VISIBLE_DEVICES='')
    assert 'backend gloo 1' in proc.stdout
    assert 'ddp ok None' in proc.stdout


def test_shims_are_idempotent():
    before = list(compat.APPLIED)
    assert compat.apply() == before
    import mmengine.runner.checkpoint as ckpt
    assert ckpt.CheckpointLoader._schemes[''] is compat.load_from_local


# ------------------------------------------------- distributed test metrics
def test_only_rank_zero_writes_test_metrics(tmp_path, monkeypatch):
    import mmengine.dist
    from mmengine.hooks import LoggerHook
    from mmengine.logging import MMLogger

    class Runner:
        log_dir = str(tmp_path)
        test_dataloader = [None] * 4
        logger = MMLogger.get_current_instance()

        class log_processor:

            @staticmethod
            def get_log_after_epoch(runner, n, mode, with_non_scalar):
                return {'acc/top1': 0.5}, 'Epoch(test) acc/top1: 0.5'

    assert 'test_metrics_dump' in compat.APPLIED
    hook = LoggerHook()
    hook.json_log_path = 'metrics.json'
    monkeypatch.setattr(mmengine.dist, 'get_rank', lambda: 1)
    hook.after_test_epoch(Runner)
    assert not (tmp_path / 'metrics.json').exists()
    monkeypatch.setattr(mmengine.dist, 'get_rank', lambda: 0)
    hook.after_test_epoch(Runner)
    assert (tmp_path / 'metrics.json').read_text() == '{"acc/top1": 0.5}'


# ---------------------------------------------------------------- mmcv-lite
def test_mmcv_lite_warning_silenced():
    code = 'import mmcv.cnn.bricks.transformer'
    plain = run_python(code)
    assert 'MultiScaleDeformableAttention' in plain.stdout  # upstream warns
    quiet = run_python('import mmemo; ' + code)
    assert 'mmcv_lite_warning' in compat.APPLIED
    assert 'MultiScaleDeformableAttention' not in quiet.stdout


WORKER_SCRIPT = '''
import os, sys, time
import mmemo  # noqa: F401  (applies the shims)
from mmengine.runner import Runner


class Slow:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        with open(sys.argv[1], 'w') as f:
            f.write(str(os.getpid()))
        time.sleep(60)  # busy: the watchdog cannot look before this ends
        return i


loader = Runner.build_dataloader(
    dict(dataset=Slow(), batch_size=1, num_workers=1,
         sampler=dict(type='DefaultSampler', shuffle=False)), seed=0)
next(iter(loader))
'''


def test_dataloader_workers_die_with_a_killed_trainer(tmp_path):
    import os
    import signal
    import subprocess
    import time
    pid_file = tmp_path / 'worker.pid'
    script = tmp_path / 'train.py'
    script.write_text(WORKER_SCRIPT)
    trainer = subprocess.Popen([sys.executable, str(script), str(pid_file)])
    try:
        deadline = time.time() + 120
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.time() < deadline and trainer.poll() is None
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        trainer.send_signal(signal.SIGKILL)
        trainer.wait()
        # gone within 3 s although it sleeps for 60 (without the shim it
        # would run until the sleep ends)
        for _ in range(30):
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            raise AssertionError('the DataLoader worker outlived its trainer')
    finally:
        trainer.kill()
