# Copyright (c) mmemo contributors. All rights reserved.
"""Official checkpoints of the models mmemo re-implements, converted to
mmemo's keys (``tools/model_converters/<model>_official_to_mmemo.py``).

One generic converter (:mod:`.convert`) and one layout per official model
(the rules, as data): :data:`OFFICIAL_LAYOUTS` maps each converter's name
to its layouts (JMT has two variants).
"""
from .avtca import AVTCA
from .cfnsr import CFNSR
from .convert import (Conversion, OfficialCheckpointError,
                      convert_official_checkpoint, convert_state_dict,
                      unwrap_state_dict)
from .jca import JCA
from .jca_cam import JCA_CAM
from .jmt import JMT_FC, JMT_SELF_ATTN
from .layout import OfficialLayout, nested, reorder_blocks, split_rows
from .maven import MAVEN

#: Converter name -> the layouts its checkpoints may have.
OFFICIAL_LAYOUTS = dict(
    avtca=(AVTCA, ),
    cfnsr=(CFNSR, ),
    jca=(JCA, ),
    jca_cam=(JCA_CAM, ),
    jmt=(JMT_SELF_ATTN, JMT_FC),
    maven=(MAVEN, ))

__all__ = [
    'OFFICIAL_LAYOUTS', 'Conversion', 'OfficialCheckpointError',
    'OfficialLayout', 'convert_official_checkpoint', 'convert_state_dict',
    'nested', 'reorder_blocks', 'split_rows', 'unwrap_state_dict'
]
