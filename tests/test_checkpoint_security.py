# Copyright (c) mmemo contributors. All rights reserved.
"""The checkpoint policy of :mod:`mmemo.compat` under torch >= 2.6.

``load_from``, ``--checkpoint``, ``init_cfg.checkpoint`` and URLs are loaded
with ``weights_only=True``; a pickle payload is refused before it runs; the
run's own checkpoints still resume.
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

from mmemo import compat
from mmemo.compat import UnsafeCheckpointError


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
    assert path in message and 'weights_only=True' in message
    assert 'system' in message  # names the offending global
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
    assert proc.returncode != 0
    assert 'Refused to load checkpoint' in proc.stdout


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
    names = {
        f'{g.__module__}.{g.__name__}'
        for g in compat.checkpoint_safe_globals()
    }
    assert 'builtins.getattr' not in names
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in names


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
    allowed = {
        f'{g.__module__}.{g.__name__}'
        for g in compat.checkpoint_safe_globals()
    }
    assert set(unsafe) <= allowed


def _resumed_metrics(work_dir):
    return [(r['step'], r['acc/top1']) for r in read_val_metrics(work_dir)]


def test_resume_from_own_work_dir(toy_run, tmp_path, monkeypatch):
    """An interrupted run resumes from its work_dir and ends as the full run.

    The checkpoint is in the old mmengine format (it needs ``getattr``), so
    only the work_dir trust lets it load; the same file given to
    ``tools/test.py`` is refused.
    """
    work_dir = tmp_path / 'interrupted'
    work_dir.mkdir()
    ckpt = str(work_dir / 'epoch_2.pth')
    _old_style_copy(osp.join(toy_run, 'epoch_2.pth'), ckpt, monkeypatch)
    (work_dir / 'last_checkpoint').write_text(ckpt)

    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(work_dir),
                       '--resume')
    assert 'resumed epoch: 2' in proc.stdout
    assert "resume from this run's own work_dir" in proc.stdout
    full = dict(_resumed_metrics(toy_run))
    resumed = _resumed_metrics(str(work_dir))
    assert [step for step, _ in resumed] == [3, 4]
    assert all(acc == full[step] for step, acc in resumed)

    assert_test_tool_refuses(ckpt, str(tmp_path / 'test'))


def test_resume_from_path_outside_work_dir(toy_run, tmp_path):
    """``--resume PATH`` elsewhere works for weights-only (mmemo) files."""
    work_dir = tmp_path / 'elsewhere'
    proc = python_tool('train.py', TOY_CONFIG, '--work-dir', str(work_dir),
                       '--resume', osp.join(toy_run, 'epoch_2.pth'))
    assert 'resumed epoch: 2' in proc.stdout
    assert "own work_dir" not in proc.stdout  # no fallback was needed
    full = dict(_resumed_metrics(toy_run))
    resumed = _resumed_metrics(str(work_dir))
    assert [step for step, _ in resumed] == [3, 4]
    assert all(acc == full[step] for step, acc in resumed)
