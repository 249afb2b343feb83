# Copyright (c) mmemo contributors. All rights reserved.
"""Checkpoint files by name and URL: hash checks and resumable downloads.

Published checkpoints are named ``<config>_<YYYYMMDD>-<sha256[:8]>.pth``
(``tools/deployment/publish_model.py``), the convention of torchvision and
the OpenMMLab model zoos. Whenever mmemo loads a file or URL whose name ends
in ``-<hex>.pth`` (8 to 64 hex digits), it checks that the file's SHA-256
starts with those digits and refuses it otherwise
(:class:`ChecksumMismatchError`). URLs are downloaded into the torch hub
cache (``$TORCH_HOME/hub/checkpoints``, see :func:`torch.hub.get_dir`)
through a ``.part`` file that a later call resumes with an HTTP ``Range``
request after an interrupted download. mmemo's checkpoint loaders
(:mod:`mmemo.compat`) call these functions, so ``load_from``,
``init_cfg.checkpoint``, ``tools/test.py`` and
:func:`mmemo.apis.init_model` all get the checks.
"""
import hashlib
import http.client
import os
import os.path as osp
import re
import sys
import urllib.error
import urllib.request
from typing import Dict, Optional, Tuple
from urllib.parse import urlparse

# ``-<hash prefix>.pth`` at the end of a file name (torch.hub's HASH_REGEX,
# restricted to hex digits and the .pth suffix).
HASH_IN_NAME = re.compile(r'-([0-9a-f]{8,64})\.pth$')
_CHUNK = 1 << 20
# realpath -> (size, mtime_ns, sha256) of files already verified
_VERIFIED: Dict[str, Tuple[int, int, str]] = {}


class ChecksumMismatchError(RuntimeError):
    """A checkpoint's SHA-256 does not match the hash in its name."""


class DownloadError(urllib.error.URLError):
    """A checkpoint download failed (a ``URLError``, as callers of
    mmengine's and torch's loaders expect); the message names the URL."""

    def __str__(self) -> str:
        return str(self.reason)


class IncompleteDownloadError(DownloadError):
    """A download ended early; calling again resumes it."""


def hash_prefix_from_name(filename: str) -> Optional[str]:
    """The SHA-256 prefix a checkpoint's name promises.

    Args:
        filename (str): A path or URL.

    Returns:
        str | None: The hex digits after the last ``-`` of a ``.pth`` name,
        or None when the name carries no hash.
    """
    match = HASH_IN_NAME.search(osp.basename(urlparse(filename).path))
    return match.group(1) if match else None


def file_sha256(path: str) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(source: str, path: str, expected: str,
              actual: str) -> ChecksumMismatchError:
    where = '' if path == source else f' (file {path})'
    return ChecksumMismatchError(
        f'Refused to load checkpoint {source!r}{where}: its name says its '
        f'SHA-256 starts with {expected!r}, but the file\'s SHA-256 is '
        f'{actual}. The file is corrupt or has been modified since it was '
        'published. Download it again from its source; if you changed it '
        'on purpose, rename it (a published name ends in '
        '`-<first 8 hex digits of its sha256>.pth`, see '
        'tools/deployment/publish_model.py).')


def verify_checkpoint_hash(path: str,
                           source: Optional[str] = None,
                           expected: Optional[str] = None) -> Optional[str]:
    """Check a file against the hash prefix in its (or its source's) name.

    Args:
        path (str): The local file.
        source (str, optional): The name the user gave (a URL or path); its
            name decides the expected hash and appears in errors. Defaults to
            ``path``.
        expected (str, optional): The expected prefix; defaults to the one
            in ``source``'s name.

    Returns:
        str | None: The file's full SHA-256, or None when nothing was to be
        checked.

    Raises:
        ChecksumMismatchError: If the hashes differ.
    """
    source = path if source is None else source
    expected = expected or hash_prefix_from_name(source)
    if expected is None:
        return None
    real = osp.realpath(path)
    stat = os.stat(real)
    known = _VERIFIED.get(real)
    if known and known[:2] == (stat.st_size, stat.st_mtime_ns):
        actual = known[2]
    else:
        actual = file_sha256(real)
    if not actual.startswith(expected):
        _VERIFIED.pop(real, None)
        raise _mismatch(source, path, expected, actual)
    _VERIFIED[real] = (stat.st_size, stat.st_mtime_ns, actual)
    return actual


def cached_checkpoint_path(url: str, model_dir: Optional[str] = None) -> str:
    """Where :func:`download_checkpoint` keeps ``url``: the torch hub cache
    (``torch.hub.get_dir()/checkpoints``) unless ``model_dir`` is given."""
    if model_dir is None:
        import torch
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    name = osp.basename(urlparse(url).path)
    if not name:
        raise ValueError(f'Cannot name a checkpoint file after URL {url!r}: '
                         'its path has no file name.')
    return osp.join(model_dir, name)


def _progress_bar(total: Optional[int], initial: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(
        total=total,
        initial=initial,
        unit='B',
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr)


def _open(url: str, offset: int, timeout: float):
    """GET ``url`` from byte ``offset``; returns (response, resumed)."""
    request = urllib.request.Request(url, headers={'User-Agent': 'mmemo'})
    if offset:
        request.add_header('Range', f'bytes={offset}-')
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # the partial file is no prefix of the served one: start again
            return _open(url, 0, timeout)[0], False
        raise DownloadError(
            f'Downloading checkpoint {url} failed: HTTP {error.code} '
            f'{error.reason}.') from error
    except urllib.error.URLError as error:
        raise DownloadError(f'Downloading checkpoint {url} failed: '
                            f'{error.reason}.') from error
    resumed = False
    if offset and response.status == 206:
        content_range = response.headers.get('Content-Range', '')
        match = re.match(r'bytes (\d+)-', content_range)
        resumed = bool(match) and int(match.group(1)) == offset
        if not resumed:
            response.close()
            return _open(url, 0, timeout)[0], False
    return response, resumed


def download_checkpoint(url: str,
                        model_dir: Optional[str] = None,
                        progress: bool = True,
                        timeout: float = 60.) -> str:
    """Download a checkpoint into the hub cache, resumably, and verify it.

    A cached file is reused (and verified). Otherwise the bytes go to
    ``<cached file>.part``; when that exists from an interrupted download,
    only the rest is requested (``Range``), or everything again if the
    server does not support ranges. Only a complete file whose hash matches
    its name is moved into place; a mismatching one is deleted.

    Args:
        url (str): ``http://`` or ``https://`` URL.
        model_dir (str, optional): Cache folder; defaults to the torch hub
            cache.
        progress (bool): Show a progress bar on stderr.
        timeout (float): Socket timeout in seconds.

    Returns:
        str: The path of the verified local file.

    Raises:
        ChecksumMismatchError: The downloaded bytes do not match the hash in
            the URL's file name.
        IncompleteDownloadError: The connection ended early; call again to
            resume from the ``.part`` file.
    """
    cached = cached_checkpoint_path(url, model_dir)
    if osp.isfile(cached):
        verify_checkpoint_hash(cached, source=url)
        return cached
    os.makedirs(osp.dirname(cached), exist_ok=True)
    partial = cached + '.part'
    offset = osp.getsize(partial) if osp.isfile(partial) else 0
    response, resumed = _open(url, offset, timeout)
    if not resumed:
        offset = 0
    length = response.headers.get('Content-Length')
    total = offset + int(length) if length is not None else None
    written = offset
    sys.stderr.write(f'{"Resuming" if resumed else "Downloading"}: "{url}" '
                     f'to {cached}' +
                     (f' from byte {offset}\n' if resumed else '\n'))
    bar = _progress_bar(total, offset, progress)
    try:
        with response, open(partial, 'ab' if resumed else 'wb') as f:
            while True:
                try:
                    chunk = response.read(64 * 1024)
                except (OSError, ValueError,
                        http.client.HTTPException) as error:  # reset, timeout
                    raise IncompleteDownloadError(
                        f'Downloading checkpoint {url} stopped after '
                        f'{written} bytes ({error}); call again to resume '
                        f'from {partial}.') from error
                if not chunk:
                    break
                f.write(chunk)
                written += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    if total is not None and written < total:
        raise IncompleteDownloadError(
            f'Downloading checkpoint {url} stopped after {written} of '
            f'{total} bytes; call again to resume from {partial}.')
    try:
        verify_checkpoint_hash(partial, source=url)
    except ChecksumMismatchError:
        os.remove(partial)
        raise
    os.replace(partial, cached)
    return cached
