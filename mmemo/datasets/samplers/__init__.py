# Copyright (c) mmemo contributors. All rights reserved.
from .seeded_sampler import SeededSampler

__all__ = ['SeededSampler']
