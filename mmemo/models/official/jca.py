# Copyright (c) mmemo contributors. All rights reserved.
"""JCA, the paper's block (praveena2j/Joint-Cross-Attention-for-Audio-
Visual-Fusion): ``models.Jcam_512.CAM`` onto ``cls_head`` (``JCAHead``) of
``configs/jca_affwild2.py``.

The official module has one regressor (valence) and no encoders: mmemo's
arousal regressor and the TSAV encoders keep the config's initialisation.
"""
from .layout import OfficialLayout

JCA = OfficialLayout(
    name='jca',
    repo='praveena2j/Joint-Cross-Attention-for-Audio-Visual-Fusion',
    commit='f1f0a0c1f46c6fdc4fe18c5eaa755de08a716c8e',
    official_class='models.Jcam_512.CAM',
    config='configs/jca_affwild2.py',
    scope='cls_head',
    renames=(
        ('affine_a', 'jca.w_ja'),
        ('affine_v', 'jca.w_jv'),
        *((f'W_{x}', f'jca.w_{x}')
          for x in ('a', 'v', 'ca', 'cv', 'ha', 'hv')),
        ('regressor', 'valence.layers'),
    ),
    no_counterpart=('arousal', ))
