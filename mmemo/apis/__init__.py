# Copyright (c) mmemo contributors. All rights reserved.
"""High-level inference APIs (``mmemo.registry.INFERENCERS``)."""
