# Copyright (c) mmemo contributors. All rights reserved.
"""JMT (PoloWlg/Joint-Multimodal-Transformer-6th-ABAW):
``models.two_transformers.Two_transformers`` onto ``cls_head``
(``JMTHead``) of ``configs/jmt_affwild2.py``, in its two variants: the
6-token self-attention aggregation (``output_format='SELF_ATTEN'``, mmemo
``aggregation='self_attn'``) and the FC one (``'FC'``, the code's default
config; mmemo ``aggregation='fc'``).

Official "physiological" is the audio stream, "pv" the joint one. The
TSAV encoders are saved to other files by the official code: they keep
the config's initialisation.
"""
from .layout import OfficialLayout, nested

_LAYER = (('attention', 'attn'), ('feed_forward.0', 'ffn.0'),
          ('feed_forward.2', 'ffn.3'), ('layer_norm1', 'norm1'),
          ('layer_norm2', 'norm2'))
_ENCODERS = (('visual_encoder', 'encoders.video'),
             ('physiological_encoder', 'encoders.audio'),
             ('joint_representation_encoder', 'encoders.joint'))
_COMMON = dict(
    repo='PoloWlg/Joint-Multimodal-Transformer-6th-ABAW',
    commit='691e27854a2ed73c7732eb020d1c5eef02ee45a5',
    official_class='models.two_transformers.Two_transformers',
    config='configs/jmt_affwild2.py',
    scope='cls_head',
    # an encoder the official model builds and never calls (40.9M)
    unused=('mm_transformer.final_encoder', ))
_RENAMES = (
    *nested(((f'mm_transformer.{official}.layers.*', f'{mmemo}.*')
             for official, mmemo in _ENCODERS), _LAYER),
    ('mm_transformer.cross_attention_v', 'cross_attns.video'),
    ('mm_transformer.cross_attention_p', 'cross_attns.audio'),
    ('mm_transformer.cross_attention_pv', 'cross_attns.joint'),
    ('mm_transformer.out_layer_pv', 'joint_fc'),
    ('vregressor', 'valence.layers'),
    ('aregressor', 'arousal.layers'),
)

JMT_SELF_ATTN = OfficialLayout(
    name='jmt_self_attn',
    renames=_RENAMES + nested(
        (('mm_transformer.final_visual_encoder.layers.*', 'agg_encoder.*'), ),
        _LAYER) + (('mm_transformer.final_self_attention', 'agg_attn'), ),
    signature='mm_transformer.final_self_attention',
    config_settings={'model.fusion_head.aggregation': 'self_attn'},
    **_COMMON)

JMT_FC = OfficialLayout(
    name='jmt_fc',
    renames=_RENAMES + (('mm_transformer.out_layer1', 'agg_fc'), ),
    signature='mm_transformer.out_layer1',
    config_settings={'model.fusion_head.aggregation': 'fc'},
    **_COMMON)
