# Copyright (c) mmemo contributors. All rights reserved.
"""CFN-SR (skeletonNN/CFN-SR): ``networks.msaf_ravdess.MSAFNet`` onto the
whole model of ``configs/cfnsr_ravdess.py``: the 3-D ResNeXt-50 to
``backbone``, MFCCNet to ``audio_encoder``, the fusion (``msaf.0``) and
``fc`` to ``cls_head``."""
from .layout import OfficialLayout, nested

# a ResNeXt bottleneck: conv/BN pairs -> ConvModule(conv, bn)
_BOTTLENECK = (('conv1', 'conv1.conv'), ('bn1', 'conv1.bn'),
               ('conv2', 'conv2.conv'), ('bn2', 'conv2.bn'),
               ('conv3', 'conv3.conv'), ('bn3', 'conv3.bn'),
               ('downsample.0', 'downsample.conv'),
               ('downsample.1', 'downsample.bn'))
# a fairseq TransformerEncoderLayer
_TRANSFORMER_LAYER = (('self_attn', 'attn'), ('fc1', 'ffn.0'),
                      ('fc2', 'ffn.3'), ('layer_norms.0', 'norm1'),
                      ('layer_norms.1', 'norm2'))

CFNSR = OfficialLayout(
    name='cfnsr',
    repo='skeletonNN/CFN-SR',
    commit='24434947294686da57d3325cce0fd9c0ab137793',
    official_class='networks.msaf_ravdess.MSAFNet',
    config='configs/cfnsr_ravdess.py',
    renames=(
        # video_model_blocks.0: conv1, bn1, (relu), layer1..4
        ('video_model_blocks.0.0', 'backbone.conv1.conv'),
        ('video_model_blocks.0.1', 'backbone.conv1.bn'),
        *nested(((f'video_model_blocks.0.{i + 2}.*', f'backbone.layer{i}.*')
                 for i in range(1, 5)), _BOTTLENECK),
        # MFCCNet: conv, (relu), BN | conv, (relu, pool), BN | conv, BN
        ('audio_model_blocks.0.0', 'audio_encoder.conv1.0'),
        ('audio_model_blocks.0.2', 'audio_encoder.conv1.2'),
        ('audio_model_blocks.0.3', 'audio_encoder.conv2.0'),
        ('audio_model_blocks.0.6', 'audio_encoder.conv2.3'),
        ('audio_model_blocks.0.8', 'audio_encoder.conv3.0'),
        ('audio_model_blocks.0.10', 'audio_encoder.conv3.2'),
        # the audio transformer: (scale, positions), 5 layers, LayerNorm
        *nested(((f'msaf.0.audio_attention.layers.{i}',
                  f'cls_head.audio_transformer.{i + 2}') for i in range(5)),
                _TRANSFORMER_LAYER),
        ('msaf.0.audio_attention.layer_norm', 'cls_head.audio_transformer.7'),
        # the audio-guided spatial attention
        ('msaf.0.channel_affine', 'cls_head.attention.x_proj'),
        ('msaf.0.y_affine', 'cls_head.attention.g_proj'),
        ('msaf.0.attn_weight_affine', 'cls_head.attention.score'),
        ('fc', 'cls_head.fc_cls'),
    ),
    # fairseq bookkeeping buffers
    unused=('msaf.0.audio_attention.version',
            'msaf.0.audio_attention.embed_positions._float_tensor'))
