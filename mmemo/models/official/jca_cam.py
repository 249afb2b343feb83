# Copyright (c) mmemo contributors. All rights reserved.
"""JCA as its code trains it (praveena2j/Joint-Cross-Attention-for-Audio-
Visual-Fusion): ``models.orig_cam.CAM`` onto ``cls_head`` (``JCACAMHead``)
of ``configs/jca_cam_affwild2.py``.

The official code orders every joint 1024-d input ``[video, audio]``,
mmemo ``[audio, video]``: those weights have their 512-halves swapped.
"""
from .layout import OfficialLayout, reorder_blocks, split_rows

_COATTN = 'coattn.dcn_layers.0'
_SWAP_COLUMNS = reorder_blocks((1, 0), dims=(1, ))

JCA_CAM = OfficialLayout(
    name='jca_cam',
    repo='praveena2j/Joint-Cross-Attention-for-Audio-Visual-Fusion',
    commit='f1f0a0c1f46c6fdc4fe18c5eaa755de08a716c8e',
    official_class='models.orig_cam.CAM',
    config='configs/jca_cam_affwild2.py',
    scope='cls_head',
    renames=(
        # the dense co-attention: 1 = video, 2 = audio
        (f'{_COATTN}.dense_coattn.query_linear', 'coattn.joint'),
        (f'{_COATTN}.dense_coattn.key1_linear', 'coattn.key_v'),
        (f'{_COATTN}.dense_coattn.key2_linear', 'coattn.key_a'),
        (f'{_COATTN}.dense_coattn.value1_linear', 'coattn.value_v'),
        (f'{_COATTN}.dense_coattn.value2_linear', 'coattn.value_a'),
        (f'{_COATTN}.linears.0.0', 'coattn.out_v'),
        (f'{_COATTN}.linears.1.0', 'coattn.out_a'),
        # the audio-guided attention over the 7x7 positions
        ('video_attn.attn.affine_audio', 'position_attn.audio_proj'),
        ('video_attn.attn.affine_video', 'position_attn.video_proj'),
        ('video_attn.attn.affine_v', 'position_attn.pool.x_proj'),
        ('video_attn.attn.affine_g', 'position_attn.pool.g_proj'),
        ('video_attn.attn.affine_h', 'position_attn.pool.score'),
        ('video_attn.attn.affine_feat', 'position_attn.out'),
        # the BiLSTM and the regressors
        ('Joint.rnn', 'lstm'),
        ('Joint.linear', 'fc'),
        ('vregressor', 'valence.layers'),
        ('aregressor', 'arousal.layers'),
    ),
    transforms={
        f'{_COATTN}.dense_coattn.query_linear.weight':
        reorder_blocks((1, 0), dims=(0, 1)),
        f'{_COATTN}.dense_coattn.query_linear.bias': reorder_blocks((1, 0)),
        f'{_COATTN}.linears.0.0.weight': _SWAP_COLUMNS,
        f'{_COATTN}.linears.1.0.weight': _SWAP_COLUMNS,
        'Joint.rnn.weight_ih_l0': _SWAP_COLUMNS,
        'Joint.rnn.weight_ih_l0_reverse': _SWAP_COLUMNS,
        # input [video, audio, LSTM output] -> [LSTM output, audio, video]
        'Joint.linear.weight': reorder_blocks((2, 1, 0), dims=(1, )),
        # the initial LSTM state: rows h, then c, each [layers x dirs, 256]
        'Joint.init_hidden': split_rows('init_h', 'init_c', new_dim=1),
    })
