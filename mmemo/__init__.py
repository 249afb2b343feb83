# Copyright (c) mmemo contributors. All rights reserved.
"""mmemo: audio-visual emotion recognition for MMAction2.

The compat shims run first: they must be in place before anything imports
``mmaction.models`` or builds a Runner (see :mod:`mmemo.compat`).
"""
from . import compat

compat.apply()

import warnings  # noqa: E402

import mmaction  # noqa: E402
import mmengine  # noqa: E402
from mmengine.utils import digit_version  # noqa: E402

from .version import __version__, version_info  # noqa: E402

# Softer than mmaction's own asserts: the shims target these releases, other
# ones may work but are untested.
_TESTED = dict(
    mmengine=('0.10.7', mmengine.__version__),
    mmaction2=('1.2.0', mmaction.__version__))
for _name, (_tested, _found) in _TESTED.items():
    if digit_version(_found)[:2] != digit_version(_tested)[:2]:
        warnings.warn(f'mmemo {__version__} is tested with {_name} '
                      f'{_tested}, found {_found}.')

__all__ = ['__version__', 'version_info', 'compat']
