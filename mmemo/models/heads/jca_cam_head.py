# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from ..layers import AdditiveAttentionPool, DenseCoAttention
from .base_va_head import BaseVAHead, VARegressor


class PositionAttn(nn.Module):
    """Audio-guided spatial attention over a sub-clip's feature map
    (``PositionAttn`` of the official ``orig_cam.py``).

    ``α = softmax_p(FC_49→1(tanh(FC_v(ReLU(FC(v_p))) + FC_g(ReLU(FC(a))))))``
    over the P positions, then ``FC(Σ_p α_p v_p)``: the raw position
    vectors are pooled, the projections only score them. As in the code,
    FC_v has no bias and FC_g's 49 outputs are one offset per position
    (``unsqueeze(2)``: broadcast over FC_v's 49 hidden units);
    ``guide_over='hidden'`` adds them per hidden unit instead, the usual
    additive attention.

    Args:
        video_channels (int): Channels of a position. Defaults to 512.
        audio_channels (int): Size of the audio guide. Defaults to 512.
        hidden (int): Size of the position/audio projections.
            Defaults to 512.
        num_positions (int): Positions P; the code scores them with
            P-dimensional additive attention. Defaults to 49 (7×7).
        guide_over (str): ``'positions'`` (the code) or ``'hidden'``, as
            in :class:`AdditiveAttentionPool`. Defaults to ``'positions'``.
    """

    def __init__(self,
                 video_channels: int = 512,
                 audio_channels: int = 512,
                 hidden: int = 512,
                 num_positions: int = 49,
                 guide_over: str = 'positions') -> None:
        super().__init__()
        self.video_proj = nn.Linear(video_channels, hidden)
        self.audio_proj = nn.Linear(audio_channels, hidden)
        self.pool = AdditiveAttentionPool(
            hidden, hidden, num_positions, x_bias=False, guide_over=guide_over)
        self.out = nn.Linear(video_channels, video_channels)

    def forward(self, positions: torch.Tensor,
                audio: torch.Tensor) -> torch.Tensor:
        """Pool the positions of each sub-clip.

        Args:
            positions (Tensor): ``[N, P, video_channels]``.
            audio (Tensor): The guide ``[N, audio_channels]``.

        Returns:
            Tensor: ``[N, video_channels]``.
        """
        keys = torch.relu(self.video_proj(positions))  # [N, P, hidden]
        guide = torch.relu(self.audio_proj(audio))  # [N, hidden]
        _, alpha = self.pool(keys, guide)  # [N, P]
        pooled = torch.einsum('np,npc->nc', alpha, positions)  # [N, C_v]
        return self.out(pooled)  # [N, C_v]


@MODELS.register_module()
class JCACAMHead(BaseVAHead):
    """The fusion model the official JCA T-BIOM code trains
    (``models/orig_cam.py``, class ``CAM``, selected by its ``main.py``).

    It differs from the paper's joint cross-attention (T-BIOM issue #4;
    the paper version is ``JCAHead``):

    1. L2-normalisation of both streams (the video over its flattened map).
    2. Audio-guided spatial attention over the 49 positions of each
       sub-clip's 7×7 R(2+1)D map (``PositionAttn``) → 512-d video.
    3. ``DenseCoAttention`` with dropout 0.6.
    4. The two streams concatenated (1024), a 2-layer BiLSTM (256 per
       direction, learnable initial states), its input concatenated back
       (1536), FC → 512, L2-normalisation.
    5. Per sub-clip ``FC(512 → 128) → ReLU → Dropout(0.6) → FC(128 → 1)``
       for valence and for arousal.

    Xavier-uniform initialisation of every weight matrix (``init_weights``).

    The video is the R(2+1)D-18 layer-4 map per sub-clip, channels first:
    ``[B, L, 512, 7, 7]`` or ``[B, L, 512, 1, 7, 7]``. The code flattens it
    (C×T×H×W) and reads it with ``.view(-1, 49, 512)``, which mixes
    channels and positions (the spec: a likely bug). The defaults compute
    the code's function (official checkpoints give its outputs);
    ``official_view=False`` reads 49 positions of 512 channels instead.

    Args:
        seq_len (int): The fixed number of sub-clips L. Defaults to 16.
        audio_channels (int): Audio feature size. Defaults to 512.
        video_channels (int): Channels of the video map. Defaults to 512.
        num_positions (int): Spatial positions of the map. Defaults to 49.
        lstm_channels (int): BiLSTM hidden size per direction.
            Defaults to 256.
        out_channels (int): Size of the fused feature. Defaults to 512.
        hidden (int): Hidden size of the regressors. Defaults to 128.
        dropout (float): Dropout of the co-attention and the regressors.
            Defaults to 0.6.
        official_view (bool): Read the map as the code does (True) or as
            49 positions × 512 channels (False). Defaults to True.
        guide_over (str): How the audio guide enters the position scores:
            ``'positions'`` (the code) or ``'hidden'`` (see
            ``PositionAttn``). Defaults to ``'positions'``.
        loss (dict): The loss. Defaults to ``dict(type='CCCLoss')``.
        init_cfg (dict or list, optional): Initialisation; None for the
            code's Xavier-uniform.
    """

    def __init__(self,
                 seq_len: int = 16,
                 audio_channels: int = 512,
                 video_channels: int = 512,
                 num_positions: int = 49,
                 lstm_channels: int = 256,
                 out_channels: int = 512,
                 hidden: int = 128,
                 dropout: float = 0.6,
                 official_view: bool = True,
                 guide_over: str = 'positions',
                 loss: ConfigType = dict(type='CCCLoss'),
                 init_cfg=None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        self.video_channels = video_channels
        self.num_positions = num_positions
        self.official_view = official_view
        self.position_attn = PositionAttn(video_channels, audio_channels,
                                          video_channels, num_positions,
                                          guide_over)
        self.coattn = DenseCoAttention(seq_len, audio_channels, video_channels,
                                       dropout)
        fused = audio_channels + video_channels
        self.lstm = nn.LSTM(
            fused,
            lstm_channels,
            num_layers=2,
            batch_first=True,
            bidirectional=True)
        # learnable (h_0, c_0), shared by the batch: [layers × dirs, 1, H]
        self.init_h = nn.Parameter(torch.zeros(4, 1, lstm_channels))
        self.init_c = nn.Parameter(torch.zeros(4, 1, lstm_channels))
        self.fc = nn.Linear(2 * lstm_channels + fused, out_channels)
        self.valence = VARegressor(out_channels, hidden, dropout)
        self.arousal = VARegressor(out_channels, hidden, dropout)

    def init_weights(self) -> None:
        """Xavier-uniform for every weight matrix (the LSTM's included),
        unless an ``init_cfg`` is given; biases and the initial states
        keep their defaults."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        for name, param in self.named_parameters():
            if param.dim() > 1 and not name.startswith('init_'):
                nn.init.xavier_uniform_(param)

    def _positions(self, video: torch.Tensor) -> torch.Tensor:
        """The ``[B·L, P, C]`` positions of the ``[B, L, C·H·W]`` maps."""
        n = video.shape[0] * video.shape[1]
        if self.official_view:
            # the code's .view(-1, 49, 512) of a channel-first map
            return video.reshape(n, self.num_positions,
                                 self.video_channels)  # [B·L, P, C]
        return video.reshape(n, self.video_channels,
                             self.num_positions).transpose(1, 2)  # [B·L,P,C]

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Fuse the sub-clip features and regress valence and arousal.

        Args:
            feats (dict): ``audio`` ``[B, L, audio_channels]`` and
                ``video`` ``[B, L, C, (1,) H, W]`` channel-first maps.

        Returns:
            Tensor: ``[B, L, 2]``, valence and arousal of each sub-clip.
        """
        audio = F.normalize(feats['audio'], dim=-1)  # [B, L, C_a]
        b, seq_len = audio.shape[:2]
        video = F.normalize(feats['video'].flatten(2), dim=-1)  # [B,L,C·H·W]
        assert video.shape[-1] == self.video_channels * self.num_positions, (
            f'video maps of {video.shape[-1]} values per sub-clip, expected '
            f'{self.video_channels} channels × {self.num_positions} '
            f'positions')
        video = self.position_attn(
            self._positions(video), audio.flatten(0, 1))  # [B·L, C_v]
        video = video.view(b, seq_len, -1)  # [B, L, C_v]
        audio, video = self.coattn(audio, video)  # [B, L, C_a], [B, L, C_v]
        x = torch.cat([audio, video], dim=-1)  # [B, L, C_a + C_v]
        state = (self.init_h.expand(-1, b, -1).contiguous(),
                 self.init_c.expand(-1, b, -1).contiguous())
        y, _ = self.lstm(x, state)  # [B, L, 2 * lstm_channels]
        y = self.fc(torch.cat([y, x], dim=-1))  # [B, L, out_channels]
        y = F.normalize(y, dim=-1)  # [B, L, out_channels]
        return torch.stack([self.valence(y), self.arousal(y)],
                           dim=-1)  # [B, L, 2]
