# Copyright (c) mmemo contributors. All rights reserved.
from .scope import in_own_scope

__all__ = ['in_own_scope']
