# Copyright (c) mmemo contributors. All rights reserved.
"""Fetch the MTCNN face detector weights used by ``MTCNNFaceDetector``.

The weights (``pnet.pt``, ``rnet.pt``, ``onet.pt``) ship inside the
``facenet-pytorch`` 2.6.0 wheel (MIT licence, Copyright (c) 2019 Timothy
Esler). mmemo cannot depend on that package (it pins torch < 2.3 and
NumPy < 2), so this script downloads the wheel alone with pip, takes the
three files out of it, checks them against the sha256 values pinned below
and writes them, with the licence, to the target directory::

    python tools/misc/fetch_face_weights.py              # <venv>/share/...
    python tools/misc/fetch_face_weights.py --out DIR
    python tools/misc/fetch_face_weights.py --wheel WHEEL   # offline

Nothing is done when the target already holds the three files with the
pinned hashes. Only the standard library is used, so the script runs before
mmemo or torch are importable.
"""
import argparse
import glob
import hashlib
import os
import os.path as osp
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict, Optional

PACKAGE = 'facenet-pytorch==2.6.0'
WHEEL_DATA_DIR = 'facenet_pytorch/data'
WHEEL_LICENSE = 'facenet_pytorch-2.6.0.dist-info/LICENSE.md'
LICENSE_NAME = 'LICENSE.facenet-pytorch.md'
# sha256 of the files in facenet_pytorch-2.6.0-py3-none-any.whl
SHA256: Dict[str, str] = {
    'pnet.pt':
    'a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f',
    'rnet.pt':
    'bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86',
    'onet.pt':
    '165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d',
}


def default_out_dir() -> str:
    """``<sys.prefix>/share/mmemo/mtcnn``: inside the active venv."""
    return osp.join(sys.prefix, 'share', 'mmemo', 'mtcnn')


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_complete(out_dir: str) -> bool:
    """Whether ``out_dir`` holds every weight file with its pinned hash."""
    for name, digest in SHA256.items():
        path = osp.join(out_dir, name)
        if not osp.isfile(path):
            return False
        with open(path, 'rb') as f:
            if sha256(f.read()) != digest:
                return False
    return True


def download_wheel(dest: str) -> str:
    """Download the facenet-pytorch wheel (without dependencies) to dest."""
    cmd = [
        sys.executable, '-m', 'pip', 'download', PACKAGE, '--no-deps',
        '--only-binary=:all:', '--disable-pip-version-check', '-d', dest
    ]
    print(f'[fetch_face_weights] {" ".join(cmd[1:])}', flush=True)
    subprocess.run(cmd, check=True)
    wheels = glob.glob(osp.join(dest, 'facenet_pytorch-*.whl'))
    if len(wheels) != 1:
        sys.exit(f'[fetch_face_weights] expected one wheel in {dest}, '
                 f'found {wheels}')
    return wheels[0]


def write_atomic(path: str, data: bytes) -> None:
    # a temporary file then a rename: readers never see a partial file
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        # mkstemp creates 0600; the weights are to be read by every user
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def extract(wheel: str, out_dir: str) -> None:
    """Take the weights and the licence out of the wheel, check, write."""
    files = {}
    with zipfile.ZipFile(wheel) as zf:
        for name, digest in SHA256.items():
            data = zf.read(f'{WHEEL_DATA_DIR}/{name}')
            if sha256(data) != digest:
                sys.exit(f'[fetch_face_weights] sha256 mismatch for {name} '
                         f'in {wheel}: got {sha256(data)}, expected {digest}')
            files[name] = data
        files[LICENSE_NAME] = zf.read(WHEEL_LICENSE)
    os.makedirs(out_dir, exist_ok=True)
    for name, data in files.items():
        write_atomic(osp.join(out_dir, name), data)


def fetch(out_dir: Optional[str] = None,
          wheel: Optional[str] = None,
          force: bool = False) -> str:
    """Make sure ``out_dir`` holds the verified MTCNN weights.

    Args:
        out_dir (str, optional): Target directory. Defaults to
            :func:`default_out_dir`.
        wheel (str, optional): A local facenet-pytorch 2.6.0 wheel to use
            instead of downloading one.
        force (bool): Extract again even when the files are present.

    Returns:
        str: The target directory.
    """
    out_dir = osp.abspath(osp.expanduser(out_dir or default_out_dir()))
    if not force and is_complete(out_dir):
        print(f'[fetch_face_weights] weights already in {out_dir}')
        return out_dir
    if wheel is not None:
        extract(wheel, out_dir)
    else:
        with tempfile.TemporaryDirectory(prefix='mmemo-facenet-') as tmp:
            extract(download_wheel(tmp), out_dir)
    print(f'[fetch_face_weights] wrote {", ".join(SHA256)} to {out_dir}')
    return out_dir


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fetch the MTCNN face detector weights from the '
        f'{PACKAGE} wheel')
    parser.add_argument(
        '--out',
        default=None,
        help='target directory (default: <sys.prefix>/share/mmemo/mtcnn)')
    parser.add_argument(
        '--wheel',
        default=None,
        help='use this local facenet-pytorch 2.6.0 wheel (offline)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='extract again even if valid files are present')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    fetch(args.out, args.wheel, args.force)


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
