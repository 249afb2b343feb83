# Copyright (c) mmemo contributors. All rights reserved.
"""Model zoo: metafiles, publishing, hash-checked and resumable loading from
URLs (a local HTTP server), and ``mim search/download mmemo``."""
import functools
import glob
import hashlib
import http.server
import json
import os
import os.path as osp
import re
import shutil
import sys
import threading

import pytest
import torch
import yaml
from helpers import (REPO, TOY_CONFIG, grid_clip, python_tool,
                     read_test_metrics, run)
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

from mmemo.compat import UnsafeCheckpointError
from mmemo.utils import register_all_modules
from mmemo.utils.hub import (ChecksumMismatchError, IncompleteDownloadError,
                             download_checkpoint, hash_prefix_from_name)

PUBLISHED_NAME = re.compile(r'^(?P<config>.+)_(?P<date>\d{8})-'
                            r'(?P<sha>[0-9a-f]{8})\.pth$')


def zoo_models(index=osp.join(REPO, 'model-index.yml')) -> list:
    from modelindex import load
    return list(load(index).models)


# ---------------------------------------------------------------------------
# metafiles
# ---------------------------------------------------------------------------
def test_model_index_lists_every_model_config():
    models = zoo_models()
    names = [m.name for m in models]
    assert len(names) == len(set(names))
    paper_configs = {
        osp.basename(p)[:-3]
        for prefix in ('avtca', 'jca', 'jmt', 'maven', 'cfnsr')
        for p in glob.glob(osp.join(REPO, 'configs', f'{prefix}_*.py'))
    }
    assert paper_configs == set(names)
    collections = {m.in_collection for m in models}
    assert collections == {'AVT-CA', 'JCA', 'JMT', 'MAVEN', 'CFN-SR'}
    with open(osp.join(REPO, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    for rel in imports:
        with open(osp.join(REPO, rel)) as f:
            data = yaml.safe_load(f)
        for collection in data['Collections']:
            assert collection['Paper']['URL'].startswith('https://arxiv.org')
            assert osp.isfile(osp.join(REPO, collection['README']))


def test_metafile_metadata_matches_the_configs():
    """Parameters, epochs and batch size in the metafiles are what the
    configs build and train with (the models are built here)."""
    register_all_modules()
    from mmemo.registry import MODELS
    for model in zoo_models():
        assert model.config == f'configs/{model.name}.py'
        cfg = Config.fromfile(osp.join(REPO, model.config))
        meta = model.metadata.data
        assert meta['Epochs'] == cfg.train_cfg.max_epochs, model.name
        assert meta['Batch Size'] == cfg.train_dataloader.batch_size
        net = MODELS.build(cfg.model)
        params = sum(p.numel() for p in net.parameters())
        assert meta['Parameters'] == params, model.name
        for result in model.results or []:
            for metric in result.metrics:
                # the papers' figures are marked; ours are measured on the
                # synthetic sets by this project (docs/en/models/*.md)
                paper = metric.endswith('(paper)')
                assert paper or 'synthetic' in result.dataset, metric
    cfnsr = {m.name: m for m in zoo_models()}['cfnsr_ravdess']
    # the paper's 26.30M, exactly
    assert cfnsr.metadata.data['Parameters'] == 26_301_417


def test_metafile_flops_are_measured_by_get_flops():
    """``FLOPs`` = tools/analysis_tools/get_flops.py on a real clip (the
    synthetic recipe's clip is a fixed 2-s window, so any clip gives it)."""
    proc = python_tool('analysis_tools/get_flops.py',
                       osp.join(REPO, 'configs', 'avtca_synth.py'), '--video',
                       grid_clip(0), '--json')
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    meta = {m.name: m.metadata.data for m in zoo_models()}['avtca_synth']
    assert stats['flops'] == meta['FLOPs']
    assert stats['params'] == meta['Parameters']
    for model in zoo_models():
        flops = model.metadata.data.get('FLOPs')
        assert flops is None or isinstance(flops, int) and flops > 0


# ---------------------------------------------------------------------------
# publishing
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def published(toy_run, tmp_path_factory):
    """The toy run's last checkpoint, published; and its test metrics."""
    out = tmp_path_factory.mktemp('published')
    with open(osp.join(toy_run, 'last_checkpoint')) as f:
        trained = f.read().strip()
    proc = python_tool('deployment/publish_model.py', trained, '--out-dir',
                       str(out), '--date', '20261203')
    path = proc.stdout.strip().splitlines()[-1]
    test_dir = str(out / 'test_local')
    python_tool('test.py', TOY_CONFIG, path, '--work-dir', test_dir)
    return trained, path, read_test_metrics(test_dir)


def test_publish_strips_training_state(published):
    trained, path, _ = published
    name = osp.basename(path)
    match = PUBLISHED_NAME.match(name)
    assert match and match['config'] == 'toy_av'
    assert match['date'] == '20261203'
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert sha.startswith(match['sha'])
    # plain torch.load, no allow-list: only tensors and builtins inside
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    full = torch.load(trained, map_location='cpu', weights_only=False)
    assert {'optimizer', 'message_hub'} <= set(full)
    assert ckpt['state_dict'].keys() == full['state_dict'].keys()
    for key, value in full['state_dict'].items():
        assert torch.equal(ckpt['state_dict'][key], value)
    meta = ckpt['meta']
    assert meta['config_name'] == 'toy_av'
    assert meta['dataset_meta']['classes'] == [f'class_{i}' for i in range(4)]
    assert meta['epoch'] == full['meta']['epoch']
    assert os.path.getsize(path) < os.path.getsize(trained)


def test_local_file_with_a_hash_in_its_name_is_verified(published, tmp_path):
    _, path, _ = published
    model = nn.Module()
    tampered = tmp_path / osp.basename(path)
    data = bytearray(open(path, 'rb').read())
    data[-100] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError, match=osp.basename(path)):
        load_checkpoint(model, str(tampered))
    # the same bytes under a name without a hash are not checked by name
    plain = tmp_path / 'renamed.pth'
    shutil.copy(path, plain)
    assert load_checkpoint(nn.Module(), str(plain), strict=False)


# ---------------------------------------------------------------------------
# a local checkpoint server
# ---------------------------------------------------------------------------
class CheckpointHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with ``Range`` support; ``cut_after`` bytes of the first
    full request are sent before the connection is dropped."""

    cut_after = None  # set per server
    log = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.translate_path(self.path)
        self.log.append((self.path, self.headers.get('Range')))
        if not osp.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as f:
            data = f.read()
        start = 0
        match = re.match(r'bytes=(\d+)-$', self.headers.get('Range') or '')
        if match:
            start = int(match.group(1))
            self.send_response(206)
            self.send_header('Content-Range',
                             f'bytes {start}-{len(data) - 1}/{len(data)}')
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        server = self.server
        if server.cut_after is not None and not match:
            self.wfile.write(body[:server.cut_after])
            server.cut_after = None
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(CheckpointHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.cut_after = None
    CheckpointHandler.log = log = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, root, f'http://127.0.0.1:{httpd.server_address[1]}', log
    httpd.shutdown()


def test_load_from_url_downloads_verifies_and_loads(published, server,
                                                    tmp_path):
    _, path, local_metrics = published
    httpd, root, base, log = server
    name = osp.basename(path)
    torch_home = tmp_path / 'torch_home'
    url = f'{base}/zoo/{name}'
    (root / 'zoo').mkdir()
    shutil.copy(path, root / 'zoo' / name)
    # tools/test.py sets `load_from` to the checkpoint argument
    python_tool(
        'test.py',
        TOY_CONFIG,
        url,
        '--work-dir',
        str(tmp_path / 'test_url'),
        TORCH_HOME=str(torch_home))
    metrics = read_test_metrics(str(tmp_path / 'test_url'))
    assert metrics['acc/top1'] == local_metrics['acc/top1']
    cached = torch_home / 'hub' / 'checkpoints' / name
    assert cached.read_bytes() == open(path, 'rb').read()
    assert not osp.exists(str(cached) + '.part')
    # a second run uses the cache: no new request
    requests = len(log)
    python_tool(
        'test.py',
        TOY_CONFIG,
        url,
        '--work-dir',
        str(tmp_path / 'test_url2'),
        TORCH_HOME=str(torch_home))
    assert len(log) == requests


def test_tampered_download_is_refused(published, server, tmp_path,
                                      monkeypatch):
    _, path, _ = published
    _, root, base, _ = server
    name = osp.basename(path)
    data = bytearray(open(path, 'rb').read())
    data[200] ^= 0x01
    (root / name).write_bytes(bytes(data))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with pytest.raises(ChecksumMismatchError) as error:
        load_checkpoint(nn.Module(), f'{base}/{name}')
    message = str(error.value)
    assert f'{base}/{name}' in message
    assert hash_prefix_from_name(name) in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    # nothing unverified stays in the cache
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    assert os.listdir(cache) == []
    # and the tools say so
    proc = python_tool(
        'test.py',
        TOY_CONFIG,
        f'{base}/{name}',
        '--work-dir',
        str(tmp_path / 'refused'),
        check=False,
        TORCH_HOME=str(tmp_path / 'torch_home'))
    # an expected error: one line, no traceback
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith('error: ') and f'{base}/{name}' in last
    assert 'is corrupt or has been modified' in last
    assert 'Traceback' not in proc.stdout


def test_weights_only_applies_to_urls(server, tmp_path, monkeypatch):
    """A correctly hashed file that needs code to unpickle is refused."""
    _, root, base, _ = server

    class Payload:

        def __reduce__(self):
            return (os.system, ('true', ))

    tmp = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': Payload()}}, tmp)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
    name = f'evil_20261203-{sha[:8]}.pth'
    shutil.copy(tmp, root / name)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with pytest.raises(UnsafeCheckpointError, match=name):
        load_checkpoint(nn.Module(), f'{base}/{name}')


def test_interrupted_download_resumes(published, server, tmp_path):
    _, path, _ = published
    httpd, root, base, log = server
    name = osp.basename(path)
    shutil.copy(path, root / name)
    size = osp.getsize(path)
    httpd.cut_after = size // 3
    model_dir = str(tmp_path / 'cache')
    url = f'{base}/{name}'
    with pytest.raises(IncompleteDownloadError, match='call again to resume'):
        download_checkpoint(url, model_dir, progress=False)
    partial = osp.join(model_dir, name + '.part')
    assert osp.getsize(partial) == size // 3
    assert not osp.exists(osp.join(model_dir, name))
    cached = download_checkpoint(url, model_dir, progress=False)
    assert log[-1] == (f'/{name}', f'bytes={size // 3}-')
    assert open(cached, 'rb').read() == open(path, 'rb').read()
    assert not osp.exists(partial)


def test_download_errors_are_url_errors(server, tmp_path):
    """Callers of mmengine's and torch's loaders catch ``URLError``."""
    import urllib.error
    _, _, base, _ = server
    with pytest.raises(urllib.error.URLError,
                       match=f'{base}/missing.pth failed: HTTP 404'):
        download_checkpoint(f'{base}/missing.pth', str(tmp_path),
                            progress=False)
    assert issubclass(IncompleteDownloadError, urllib.error.URLError)


# ---------------------------------------------------------------------------
# mim search / download from an installed wheel
# ---------------------------------------------------------------------------
def test_mim_download_resolves_our_metafile(wheel_install, server, tmp_path):
    _, target = wheel_install
    _, root, base, log = server
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    env = dict(PYTHONPATH=target, PATH=os.environ['PATH'])
    index = osp.join(target, 'mmemo', '.mim', 'model-index.yml')
    assert osp.isfile(index)
    proc = run([mim, 'search', 'mmemo', '--model', 'avt-ca'],
               cwd=str(tmp_path),
               **env)
    assert 'avtca_synth' in proc.stdout and 'avtca_cremad' in proc.stdout

    # a release: a run of avtca_synth (random weights here), published
    # with its URL written into the installed copy of the AVT-CA metafile
    register_all_modules()
    from mmemo.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avtca_synth.py'))
    model = MODELS.build(cfg.model)
    trained = tmp_path / 'epoch_1.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                experiment_name='avtca_synth_20261203_101010',
                dataset_meta=dict(classes=['a', 'b', 'c', 'd', 'e', 'f']))),
        trained)
    proc = python_tool('deployment/publish_model.py', str(trained),
                       '--out-dir', str(root), '--metafile', '--url-prefix',
                       f'{base}/v0.1', '--model-index', index)
    name = osp.basename(proc.stdout.strip().splitlines()[-2].split()[-1])
    assert osp.isfile(root / name) and name.startswith('avtca_synth_')
    os.makedirs(root / 'v0.1')
    shutil.move(str(root / name), str(root / 'v0.1' / name))
    metafile = osp.join(target, 'mmemo', '.mim', 'configs', 'avtca',
                        'metafile.yml')
    with open(metafile) as f:
        entry = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    assert entry['avtca_synth']['Weights'] == f'{base}/v0.1/{name}'
    # the repository's metafile is untouched
    assert 'Weights' not in {
        m.name: m
        for m in zoo_models()
    }['avtca_synth'].data

    dest = tmp_path / 'downloads'
    run([
        mim, 'download', 'mmemo', '--config', 'avtca_synth', '--dest',
        str(dest)
    ],
        cwd=str(tmp_path),
        **env)
    assert (f'/v0.1/{name}', None) in log
    assert (dest / name).read_bytes() == (root / 'v0.1' / name).read_bytes()
    dumped = Config.fromfile(str(dest / 'avtca_synth.py'))
    assert dumped.model.fusion_head.num_classes == 6
    # the downloaded file loads into the dumped config's model (its name's
    # hash is checked on the way)
    net = MODELS.build(dumped.model)
    load_checkpoint(net, str(dest / name), strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(net.state_dict()[key], value)
