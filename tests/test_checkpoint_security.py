# Copyright (c) mmemo contributors. All rights reserved.
"""The checkpoint policy of :mod:`mmemo.checkpoint`: one restricted loader
for ``load_from``, ``--checkpoint``, ``init_cfg.checkpoint``, URLs and
``--resume`` (the run's own work_dir included); a pickle payload is refused
before it runs, naming what it needed; real MMEngine checkpoints load.
"""
import functools
import http.server
import os
import os.path as osp
import pickle
import shutil
import threading

import pytest
import torch
import torch.nn as nn
from helpers import TOY_CONFIG, python_tool, read_val_metrics
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint

from mmemo import checkpoint, compat
from mmemo.checkpoint import UnsafeCheckpointError


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(3, 2)


@pytest.fixture
def evil_ckpt(tmp_path):
    """A checkpoint with real weights plus a code-running payload."""
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save(
        dict(state_dict=tiny_model().state_dict(), meta={}, x=Payload(marker)),
        path)
    return path, marker


def test_payload_is_real(evil_ckpt):
    path, marker = evil_ckpt
    torch.load(path, weights_only=False)  # what mmengine main would do
    assert osp.exists(marker)


def test_load_from_refuses_payload(evil_ckpt):
    path, marker = evil_ckpt
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(tiny_model(), path)
    message = str(info.value)
    assert path in message and 'refused to load the checkpoint' in message
    assert 'needs posix.system' in message  # names the offending global
    assert not osp.exists(marker)


def test_init_cfg_checkpoint_refuses_payload(evil_ckpt):
    path, marker = evil_ckpt

    class Net(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(type='Pretrained', checkpoint=path))
            self.fc = nn.Linear(3, 2)

    with pytest.raises(UnsafeCheckpointError):
        Net().init_weights()
    assert not osp.exists(marker)


def assert_test_tool_refuses(checkpoint: str, work_dir: str) -> None:
    proc = python_tool(
        'test.py', TOY_CONFIG, checkpoint, '--work-dir', work_dir, check=False)
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f'error: {checkpoint}: refused to load the '
                           'checkpoint: it needs posix.system')


def test_test_tool_refuses_payload(evil_ckpt, tmp_path):
    path, marker = evil_ckpt
    assert_test_tool_refuses(path, str(tmp_path / 'work'))
    assert not osp.exists(marker)


@pytest.fixture
def http_server(tmp_path):
    """Serve ``tmp_path/www`` on 127.0.0.1; yields (root dir, base URL)."""
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()


def test_url_checkpoints(evil_ckpt, http_server, tmp_path, monkeypatch):
    root, url = http_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    path, marker = evil_ckpt
    shutil.copy(path, root / 'evil.pth')
    good = tiny_model()
    torch.save(dict(state_dict=good.state_dict(), meta={}), root / 'good.pth')

    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        load_checkpoint(nn.Linear(3, 2), f'{url}/evil.pth')
    assert not osp.exists(marker)

    model = nn.Linear(3, 2)
    load_checkpoint(model, f'{url}/good.pth')
    assert torch.equal(model.weight, good.weight)
    cached = tmp_path / 'torch_home' / 'hub' / 'checkpoints' / 'good.pth'
    assert cached.exists()  # downloads go to the torch hub cache


def test_allow_list_is_plain_types():
    names = checkpoint.allowed_global_names()
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in names
    assert 'numpy.core.multiarray._reconstruct' in names  # NumPy 1 pickles
    # `builtins.getattr` is only the checked one: HistoryBuffer's methods
    getattr_entry = dict((name, g) for g, name in (
        e for e in checkpoint.checkpoint_safe_globals()
        if isinstance(e, tuple)))['builtins.getattr']
    assert getattr_entry(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for obj, name in ((HistoryBuffer, '__init__'), (os, 'system'),
                      (nn.Module, 'state_dict')):
        with pytest.raises(UnsafeCheckpointError, match=name):
            getattr_entry(obj, name)


class GetattrPayload:
    """Unpickling this would call ``getattr(HistoryBuffer, "__init__")``."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_plain_data_of_every_kind_loads_and_callables_do_not(tmp_path):
    """NumPy strings, bytes, objects and scalars (a real meta holds them)
    load; ``getattr`` on anything but HistoryBuffer's statistics does not."""
    import numpy as np
    meta = dict(
        classes=np.array(['anger', 'joy']),
        raw=np.array([b'x']),
        mixed=np.array([1, 'a'], dtype=object),
        score=np.float32(0.5),
        name=np.str_('run'))
    path = str(tmp_path / 'meta.pth')
    torch.save(dict(state_dict=tiny_model().state_dict(), meta=meta), path)
    loaded = checkpoint.safe_torch_load(path)['meta']
    assert loaded['classes'].tolist() == ['anger', 'joy']
    assert loaded['mixed'].tolist() == [1, 'a'] and loaded['score'] == 0.5
    evil = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=GetattrPayload()), evil)
    with pytest.raises(UnsafeCheckpointError,
                       match=r"needs builtins.getattr\(.*'__init__'\)"):
        checkpoint.safe_torch_load(evil)


def test_history_buffer_pickles_without_methods():
    buffer = HistoryBuffer()
    for value in (1.0, 2.0, 6.0):
        buffer.update(value)
    assert 'statistics_methods' not in buffer.__getstate__()
    restored = pickle.loads(pickle.dumps(buffer))
    assert restored.mean() == 3.0 and restored.max() == 6.0
    assert restored.statistics('current') == 6.0


def _old_style_copy(src: str, dst: str, monkeypatch) -> None:
    """Re-save a checkpoint as plain mmengine 0.10.7 would have written it."""
    checkpoint = torch.load(src, weights_only=False)
    with monkeypatch.context() as m:
        m.setattr(HistoryBuffer, '__getstate__',
                  compat._ORIGINALS['HistoryBuffer.__getstate__'])
        torch.save(checkpoint, dst)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(dst)
    assert 'builtins.getattr' in unsafe  # needs full unpickling


def test_our_checkpoints_are_weights_only(toy_run):
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
        osp.join(toy_run, 'epoch_2.pth'))
    assert set(unsafe) <= set(checkpoint.allowed_global_names())
    assert 'builtins.getattr' not in unsafe  # HistoryBuffer as plain data


def _resumed_metrics(work_dir):
    return [(r['step'], r['acc/top1']) for r in read_val_metrics(work_dir)]


def test_resume_from_own_work_dir(toy_run, tmp_path, monkeypatch):
    """An interrupted run resumes from its work_dir and ends as the full run,
    from a checkpoint in plain mmengine's format (its message hub needs
    ``getattr(HistoryBuffer, ...)``) through the same restricted loader;
    a payload planted in the work dir is refused, and never runs."""
    work_dir = tmp_path / 'interrupted'
    work_dir.mkdir()
    ckpt = str(work_dir / 'epoch_2.pth')
    _old_style_copy(osp.join(toy_run, 'epoch_2.pth'), ckpt, monkeypatch)
    (work_dir / 'last_checkpoint').write_text(ckpt)

    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(work_dir),
                       '--resume')
    assert 'resumed epoch: 2' in proc.stdout
    full = dict(_resumed_metrics(toy_run))
    resumed = _resumed_metrics(str(work_dir))
    assert [step for step, _ in resumed] == [3, 4]
    assert all(acc == full[step] for step, acc in resumed)

    evil_dir = tmp_path / 'planted'
    evil_dir.mkdir()
    marker = str(tmp_path / 'pwned_by_resume')
    evil = torch.load(ckpt, weights_only=False)
    evil['meta']['x'] = Payload(marker)
    torch.save(evil, str(evil_dir / 'epoch_2.pth'))
    (evil_dir / 'last_checkpoint').write_text(str(evil_dir / 'epoch_2.pth'))
    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(evil_dir),
                       '--resume', check=False)
    assert proc.returncode == 1
    assert 'refused to load the checkpoint: it needs posix.system' in \
        proc.stdout.strip().splitlines()[-1]
    assert not osp.exists(marker)


def test_resume_from_path_outside_work_dir(toy_run, tmp_path):
    """``--resume PATH`` elsewhere works for weights-only (mmemo) files."""
    work_dir = tmp_path / 'elsewhere'
    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(work_dir),
                       '--resume', osp.join(toy_run, 'epoch_2.pth'))
    assert 'resumed epoch: 2' in proc.stdout
    full = dict(_resumed_metrics(toy_run))
    resumed = _resumed_metrics(str(work_dir))
    assert [step for step, _ in resumed] == [3, 4]
    assert all(acc == full[step] for step, acc in resumed)


# ------------------------------------------------ real MMEngine checkpoints
FIXTURES = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'checkpoints')
REAL = [
    f'{kind}_{numpy}.pth' for kind in ('mmengine', 'modelzoo')
    for numpy in ('numpy1', 'numpy2')
]


def toy_model():
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmemo.registry import MODELS
    cfg = Config.fromfile(TOY_CONFIG)
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('name', REAL)
def test_real_checkpoints_load_as_load_from_and_init_cfg(name):
    """Checkpoints written by plain MMEngine 0.10.7 (NumPy 1 and 2 pickles,
    message hub, optimizer and scheduler state, model-zoo meta) load."""
    path = osp.join(FIXTURES, name)
    expected = torch.load(path, weights_only=False)['state_dict']
    model = toy_model()
    load_checkpoint(model, path, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    loaded = checkpoint.safe_torch_load(path)
    if name.startswith('modelzoo'):
        assert loaded['meta']['classes'].tolist() == ['a', 'b', 'c', 'd']
    else:
        buffers = loaded['message_hub']['log_scalars']
        assert all(isinstance(b, HistoryBuffer) for b in buffers.values())
        assert buffers['train/loss'].mean() > 0

    class Net(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(type='Pretrained', checkpoint=path))
            self.fc_cls = nn.Linear(32, 4)

    net = Net()
    net.init_weights()
    assert torch.equal(net.fc_cls.weight, expected['fc_cls.weight'])


@pytest.mark.parametrize('numpy', ['numpy1', 'numpy2'])
def test_real_checkpoints_through_the_tools(numpy, tmp_path):
    """``tools/test.py CKPT`` and ``tools/train.py --resume CKPT``."""
    for kind in ('mmengine', 'modelzoo'):
        python_tool('test.py', TOY_CONFIG,
                    osp.join(FIXTURES, f'{kind}_{numpy}.pth'), '--work-dir',
                    str(tmp_path / f'test_{kind}'))
    work_dir = tmp_path / 'resumed'
    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(work_dir),
                       '--resume', osp.join(FIXTURES, f'mmengine_{numpy}.pth'))
    assert 'resumed epoch: 2' in proc.stdout
    assert [step for step, _ in _resumed_metrics(str(work_dir))] == [3, 4]
