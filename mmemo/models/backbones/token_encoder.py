# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_with_prefix,
                                        load_state_dict)

from mmemo.registry import MODELS
from ..utils import in_own_scope


@MODELS.register_module()
class TokenEncoder(BaseModule):
    """Turn any backbone's output into the ``[B, T, C]`` tokens a fusion
    head takes: the adapter that lets MMAction2's backbones serve as
    audio or visual encoders.

    It pools away the spatial (or frequency) axes, keeps time, optionally
    resamples time to ``num_tokens`` and projects to ``out_channels``:

    - 3D video backbones (X3D, SlowOnly, R(2+1)D): ``[B, C, T, H, W]`` in,
      ``[B, C', T', H', W']`` out;
    - 2D image backbones with ``per_frame=True``: ``[B, C, T, H, W]`` in,
      ``[B*T, C', h, w]`` out;
    - 2D backbones on spectrograms (ResNetAudio): ``[B, 1, T, F]`` in,
      ``[B, C', T', F']`` out;
    - clip-level backbones (TimeSformer): ``[B, C']`` out (one token);
    - token sequences: ``[B, N, C']`` out.

    A tuple output (multi-stage backbones) uses its last entry.

    ``init_cfg=dict(type='Pretrained', checkpoint=URL_OR_PATH,
    prefix='backbone.')`` loads pretrained weights into the *wrapped*
    backbone (e.g. an MMAction2 model-zoo recognizer checkpoint, whose
    backbone keys start with ``backbone.``), after the backbone's own
    initialisation; MMAction2's 3D backbones are plain ``nn.Module`` and
    take no ``init_cfg`` themselves. Checkpoints are loaded with
    ``weights_only=True`` (see :mod:`mmemo.compat`).

    Args:
        backbone (dict): The backbone, e.g. ``dict(type='mmaction.X3D',
            gamma_w=1, gamma_b=2.25, gamma_d=2.2)``.
        feat_channels (int, optional): The backbone's output channels,
            needed for the projection.
        out_channels (int, optional): Project tokens to this size.
        num_tokens (int, optional): Resample time to this many tokens
            (linear interpolation).
        per_frame (bool): Apply a 2D backbone to every frame of a clip.
            Defaults to False.
        spatial_pool (str): How the spatial (or frequency) axes are pooled:
            ``'avg'`` or ``'max'``. Defaults to ``'avg'``.
        temporal_pool (str, optional): Also pool time (``'avg'`` or
            ``'max'``), giving one ``[B, C]`` vector per clip: a sub-clip
            feature for the valence/arousal models. Defaults to None.
        init_cfg (dict, optional): ``Pretrained`` weights of the backbone
            (see above), or another initialisation of this module.
    """

    def __init__(self,
                 backbone: dict,
                 feat_channels: Optional[int] = None,
                 out_channels: Optional[int] = None,
                 num_tokens: Optional[int] = None,
                 per_frame: bool = False,
                 spatial_pool: str = 'avg',
                 temporal_pool: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(in_own_scope(backbone))
        self.per_frame = per_frame
        assert spatial_pool in ('avg', 'max'), spatial_pool
        self.spatial_pool = spatial_pool
        assert temporal_pool in (None, 'avg', 'max'), temporal_pool
        self.temporal_pool = temporal_pool
        self.num_tokens = num_tokens
        self.proj = None
        if out_channels is not None:
            assert feat_channels, 'out_channels needs feat_channels'
            self.proj = nn.Linear(feat_channels, out_channels)
        self.out_channels = out_channels or feat_channels

    def init_weights(self) -> None:
        """Initialise the backbone, then load its pretrained weights."""
        cfg = self.init_cfg if isinstance(self.init_cfg, dict) else {}
        if cfg.get('type') != 'Pretrained':
            return super().init_weights()
        if hasattr(self.backbone, 'init_weights'):
            self.backbone.init_weights()
        prefix = cfg.get('prefix')
        if prefix:
            state_dict = _load_checkpoint_with_prefix(
                prefix, cfg['checkpoint'], map_location='cpu')
        else:
            state_dict = _load_checkpoint(cfg['checkpoint'], 'cpu')
            state_dict = state_dict.get('state_dict', state_dict)
        load_state_dict(
            self.backbone, state_dict, strict=False, logger='current')
        self._is_init = True

    def _tokens(self, feats: Union[torch.Tensor, tuple], batch: int,
                frames: int) -> torch.Tensor:
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        pool = torch.mean if self.spatial_pool == 'avg' else torch.amax
        if self.per_frame:
            feats = pool(feats.flatten(2), -1) if feats.ndim > 2 else feats
            return feats.view(batch, frames, -1)  # [B, T, C]
        if feats.ndim == 5:  # [B, C, T, H, W]
            return pool(feats, dim=(3, 4)).transpose(1, 2)  # [B, T, C]
        if feats.ndim == 4:  # [B, C, T, F] (spectrogram backbones)
            return pool(feats, dim=3).transpose(1, 2)  # [B, T, C]
        if feats.ndim == 2:  # [B, C], one clip-level token
            return feats[:, None]  # [B, 1, C]
        return feats  # [B, N, C]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode a batch into tokens.

        Args:
            x (Tensor): ``[B, C, T, H, W]`` clips or ``[B, 1, T, F]``
                spectrograms.

        Returns:
            Tensor: ``[B, T', out_channels]`` (``[B, out_channels]`` with
            ``temporal_pool``).
        """
        batch = x.shape[0]
        frames = x.shape[2] if self.per_frame else 1
        if self.per_frame:
            x = x.transpose(1, 2).flatten(0, 1)  # [B*T, C, H, W]
        tokens = self._tokens(self.backbone(x), batch, frames)  # [B, T', C]
        if self.num_tokens and tokens.shape[1] != self.num_tokens:
            tokens = F.interpolate(
                tokens.transpose(1, 2),
                size=self.num_tokens,
                mode='linear',
                align_corners=False).transpose(1, 2)  # [B, num_tokens, C]
        if self.proj is not None:
            tokens = self.proj(tokens)  # [B, T', out_channels]
        if self.temporal_pool == 'avg':
            return tokens.mean(1)  # [B, out_channels]
        if self.temporal_pool == 'max':
            return tokens.amax(1)  # [B, out_channels]
        return tokens
