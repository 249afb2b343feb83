# Copyright (c) mmemo contributors. All rights reserved.
"""AVT-CA (shravan-18/AVTCA): ``models.multimodalcnn.MultiModalCNN``
(fusion ``'it'``) onto the whole model of ``configs/avtca_ravdess.py``:
the EfficientFace body to ``backbone``, the 1-D temporal convolutions and
the fusion to ``cls_head``."""
from .layout import OfficialLayout, nested, split_rows

# one block of the official AttentionBlock (timm-style) -> CrossAttention
_ATTENTION_BLOCK = (('norm1_q', 'norm_q'), ('norm1_k', 'norm_kv'),
                    ('attn.q', 'to_q'), ('attn.proj', 'proj'),
                    ('norm2', 'ffn.0'), ('mlp.fc1', 'ffn.1'),
                    ('mlp.fc2', 'ffn.3'))
_TEMPORAL_CONVS = (('conv1d_0', 'stage1.0'), ('conv1d_1', 'stage1.1'),
                   ('conv1d_2', 'stage2.0'), ('conv1d_3', 'stage2.1'))

AVTCA = OfficialLayout(
    name='avtca',
    repo='shravan-18/AVTCA',
    commit='eae3646137836e71e3d3fec3a28dea1c044febbc',
    official_class='models.multimodalcnn.MultiModalCNN',
    config='configs/avtca_ravdess.py',
    renames=(
        ('visual_model', 'backbone'),  # EfficientFace
        *((f'{stream}_model.{conv}', f'cls_head.{mmemo}_{stage}')
          for stream, mmemo in (('visual', 'video'), ('audio', 'audio'))
          for conv, stage in _TEMPORAL_CONVS),
        *nested((('av1', 'cls_head.av1'), ('va1', 'cls_head.va1')),
                _ATTENTION_BLOCK),
        ('finalAttention.out_proj', 'cls_head.final.proj'),
        ('classifier_1.0', 'cls_head.fc_cls'),
    ),
    transforms={
        # the fused k/v Linear: rows [0, C) are k, [C, 2C) v
        **{
            f'{block}.attn.kv.weight': split_rows(
                f'cls_head.{block}.to_k.weight',
                f'cls_head.{block}.to_v.weight')
            for block in ('av1', 'va1')
        },
        # nn.MultiheadAttention(128, 8): in_proj q, k, v thirds
        **{
            f'finalAttention.in_proj_{kind}': split_rows(
                *(f'cls_head.final.to_{x}.{kind}' for x in 'qkv'))
            for kind in ('weight', 'bias')
        },
    },
    # the unimodal classifiers, never called on the fusion path
    unused=('audio_model.classifier_1', 'visual_model.classifier_1'))
