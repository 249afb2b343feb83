# Copyright (c) mmemo contributors. All rights reserved.
"""MAVEN (Vrushank-Ahire/MAVEN_8th_ABAW): ``codes/Train_MLP.py``'s
``MultiModalEmotionModel`` onto ``cls_head`` (``MAVENHead``) of
``configs/maven_affwild2.py``, the whole regressor (it runs on
pre-extracted features)."""
from itertools import permutations

from .layout import OfficialLayout

_STREAMS = ('video', 'audio', 'text')

MAVEN = OfficialLayout(
    name='maven',
    repo='Vrushank-Ahire/MAVEN_8th_ABAW',
    commit='e053894ac5350359334d5c68b5b2c92958733ecb',
    official_class='codes.Train_MLP.MultiModalEmotionModel',
    config='configs/maven_affwild2.py',
    scope='cls_head',
    renames=(
        *((f'multihead_attention.{s}_proj', f'proj.{s}') for s in _STREAMS),
        # attn_X2Y: X queries Y (v, a, t)
        *((f'multihead_attention.attn_{x[0]}2{y[0]}', f'cross_attns.{x}_{y}')
          for x, y in permutations(_STREAMS, 2)),
        ('multihead_attention.layer_norm', 'norm'),
        ('regressor.fc', 'predictor'),
    ))
