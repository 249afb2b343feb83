# Copyright (c) mmemo contributors. All rights reserved.
from .avtca_head import AVTCAHead
from .base_va_head import BaseVAHead, VARegressor

__all__ = ['AVTCAHead', 'BaseVAHead', 'VARegressor']
