# Copyright (c) mmemo contributors. All rights reserved.
from .memory_format import to_channels_last
from .scope import in_own_scope

__all__ = ['in_own_scope', 'to_channels_last']
