# Copyright (c) mmemo contributors. All rights reserved.
from .recognizers import *  # noqa: F401,F403
