# Copyright (c) mmemo contributors. All rights reserved.
from .ccc import concordance_cc

__all__ = ['concordance_cc']
