# Copyright (c) mmemo contributors. All rights reserved.
from .avtca_head import AVTCAHead

__all__ = ['AVTCAHead']
