# Copyright (c) mmemo contributors. All rights reserved.
from .face import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
