# Copyright (c) mmemo contributors. All rights reserved.
from .avtca_head import AVTCAHead
from .base_va_head import BaseVAHead, VARegressor
from .cfnsr_head import CFNSRHead
from .concat_va_head import ConcatVAHead
from .jca_cam_head import JCACAMHead
from .jca_head import JCAHead
from .jmt_head import JMTHead
from .maven_head import MAVENHead

__all__ = [
    'AVTCAHead', 'BaseVAHead', 'CFNSRHead', 'ConcatVAHead', 'JCACAMHead',
    'JCAHead', 'JMTHead', 'MAVENHead', 'VARegressor'
]
