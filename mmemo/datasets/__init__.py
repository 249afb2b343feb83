# Copyright (c) mmemo contributors. All rights reserved.
from .toy_av_dataset import ToyAVDataset

__all__ = ['ToyAVDataset']
