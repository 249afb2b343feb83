# Copyright (c) mmemo contributors. All rights reserved.
"""Emotion metrics (registered in ``mmemo.registry.METRICS``)."""
