# Copyright (c) mmemo contributors. All rights reserved.
from .ccc_loss import CCCLoss

__all__ = ['CCCLoss']
