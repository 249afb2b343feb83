# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2 (Copyright (c) OpenMMLab, Apache-2.0).
"""Packaging for mmemo, modelled on mmaction2's ``setup.py``.

Besides the usual metadata it copies (or, for editable installs, links)
``configs/``, ``tools/`` and ``model-index.yml`` into ``mmemo/.mim`` so that
``mim train mmemo CONFIG`` and ``_base_ = 'mmemo::...'`` work after install.
"""
import os
import os.path as osp
import platform
import shutil
import sys
import warnings
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    version_file = osp.join(HERE, 'mmemo', 'version.py')
    scope: dict = {}
    with open(version_file, encoding='utf-8') as f:
        exec(compile(f.read(), version_file, 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Read requirement specifiers from a requirements file.

    Comments, blank lines and ``-r`` includes are handled; environment
    markers and version specifiers are kept verbatim.

    Args:
        fname (str): Path relative to the repository root.

    Returns:
        list[str]: The requirement strings.
    """
    reqs = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(
                    osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Put configs, tools and the model index into ``mmemo/.mim``.

    Wheels and sdists get copies; ``develop`` and PEP 660 editable installs
    (``editable_wheel``) get symlinks, so edits in the checkout are seen.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink' if platform.system() != 'Windows' else 'copy'
    elif {'sdist', 'bdist_wheel', 'build', 'install'} & set(sys.argv):
        mode = 'copy'
    else:
        return

    filenames = ['tools', 'configs', 'model-index.yml']
    mim_path = osp.join(HERE, 'mmemo', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for filename in filenames:
        src_path = osp.join(HERE, filename)
        tar_path = osp.join(mim_path, filename)
        if not osp.exists(src_path):
            continue
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)
        if mode == 'symlink':
            os.symlink(osp.relpath(src_path, mim_path), tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        else:
            shutil.copytree(
                src_path,
                tar_path,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    if mode == 'symlink' and not osp.exists(osp.join(
            mim_path, 'configs')):  # pragma: no cover
        warnings.warn(f'Failed to link configs into {mim_path}')


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmemo',
        version=get_version(),
        description='Audio-visual emotion recognition for MMAction2',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='emotion recognition, audio-visual, multimodal, mmaction2',
        packages=find_packages(
            exclude=('configs', 'tools', 'tests', 'demo', 'docs')),
        include_package_data=True,
        python_requires='>=3.10',
        classifiers=[
            'Development Status :: 3 - Alpha',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
            'Programming Language :: Python :: 3.12',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'all': parse_requirements('requirements.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'tests': parse_requirements('requirements/tests.txt'),
            'docs': parse_requirements('requirements/docs.txt'),
        },
        zip_safe=False)
