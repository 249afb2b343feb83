# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2 (Copyright (c) OpenMMLab, Apache-2.0).
import importlib.metadata

from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_basic_env


def collect_env() -> dict:
    """Collect the running environment, as ``mmaction.utils.collect_env``.

    Returns:
        dict: Name -> version or description, including the audio/video
        stack mmemo relies on and the compat shims in effect.
    """
    import mmaction
    import mmcv

    import mmemo
    env_info = collect_basic_env()
    env_info['mmemo'] = mmemo.__version__ + '+' + get_git_hash(digits=7)
    env_info['MMAction2'] = mmaction.__version__
    env_info['MMCV'] = mmcv.__version__
    for dist in ('torchaudio', 'numpy', 'av', 'decord', 'soundfile',
                 'opencv-python-headless', 'setuptools'):
        try:
            env_info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            env_info[dist] = 'not installed'
    env_info['mmemo compat shims'] = ', '.join(mmemo.compat.APPLIED) or '-'
    return env_info


if __name__ == '__main__':
    for name, val in collect_env().items():
        print(f'{name}: {val}')
