# Copyright (c) mmemo contributors. All rights reserved.
from .collect_env import collect_env
from .config import get_dataset_cfg, get_pipeline_cfg, unwrap_dataset_cfg
from .setup_env import register_all_modules

__all__ = [
    'collect_env', 'get_dataset_cfg', 'get_pipeline_cfg',
    'register_all_modules', 'unwrap_dataset_cfg'
]
