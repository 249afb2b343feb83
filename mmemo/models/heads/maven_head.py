# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.utils import ConfigType, SampleList

from mmemo.registry import MODELS
from ..layers import TemporalReduce, TransformerEncoderLayer
from ..layers.polar import to_va, va_to_polar
from .base_va_head import PADDING_MASK_SUFFIX, BaseVAHead

#: Non-negative intensity: ``softplus`` (smooth, > 0), ``abs`` or ``none``
#: (the code's raw output, which may be negative).
INTENSITY = dict(softplus=F.softplus, abs=torch.abs, none=lambda x: x)


def _unmask_empty(mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """A key-padding mask without all-padded rows (their softmax would be
    NaN); the outputs of such rows are discarded by the caller."""
    if mask is None:
        return None
    return mask & ~mask.all(1, keepdim=True)  # [B, N]


@MODELS.register_module()
class MAVENHead(BaseVAHead):
    """MAVEN's fusion: bi-directional cross-modal attention and a polar
    valence/arousal predictor.

    Ahmed et al., "MAVEN: Multi-modal Attention for Valence-Arousal Emotion
    Network", CVPRW (ABAW-8) 2025, arXiv 2503.12623 (code
    ``MultiHeadCrossModalAttention`` + the MLP of ``Train_MLP.py``).

    For streams ``x`` (video, audio[, text]) with tokens ``[B, N_x, D_x]``:

    1. ``P_x = FC(D_x -> 512)(x)``.
    2. One ``nn.MultiheadAttention(512, 2 heads, dropout 0.1)`` per ordered
       pair, ``x <- y`` (query x, keys/values y): six pathways for three
       streams (``v<-a, v<-t, a<-v, a<-t, t<-v, t<-a``), two for two.
    3. ``X* = LN(Dropout(mean(P_x, x<-y, x<-z)))``, one LayerNorm shared by
       all streams (the code) or one per stream.
    4. Optionally the paper's refinement ``X* = LN(MHA(X*, X*, X*) + X*)``
       per stream (the code has none).
    5. Every stream brought to the video's T frames (``temporal_align``):
       ``'frame'`` = its tokens are the frames (N = T, e.g. features
       interpolated per frame, the paper); ``'mean'`` = the mean of its
       valid tokens broadcast over T (one segment token: the code).
       Concatenated: ``[B, T, 512 * streams]``.
    6. MLP ``-> 512 (ReLU, Dropout 0.5) -> 256 (ReLU, Dropout 0.3) -> 2``
       = ``(theta, I)`` per frame, ``I`` made non-negative
       (``intensity``), and ``valence = I cos(theta)``, ``arousal = I
       sin(theta)`` (continuous in theta: no wrap-around problem).

    Unlike the code, padded tokens are never attended to: a stream's
    ``<stream>_padding_mask`` (``[B, N]``, True = pad; from the data
    samples' ``padding_masks``, see :meth:`BaseVAHead.with_padding_masks`)
    masks it as keys, is left out of its mean, and its padded frames
    (``'frame'`` streams and the video) are zeroed before the predictor, so
    a padded token changes no output. A pathway whose keys are all padding
    contributes zeros.

    :meth:`forward` returns ``(valence, arousal)`` ``[B, T, 2]``;
    :meth:`forward_polar` the ``(theta, I)`` it comes from. A loss whose
    ``takes_pred_polar`` is True (``VAMSELoss(space='polar')``, the code's
    MSE on ``(theta, I)``) is also given the polar output.

    Args:
        in_channels (dict): Stream -> input feature size, in the order of
            the concatenation; must contain ``video`` (its tokens are the
            output frames). Defaults to the paper's
            ``dict(video=1024, audio=768, text=768)`` (Swin-B, HuBERT,
            RoBERTa); without ``text`` there are no text pathways.
        embed_dim (int): Width of the fusion. Defaults to 512.
        num_heads (int): Heads of each pathway. Defaults to 2.
        attn_drop (float): Attention dropout of the pathways (and of the
            refinement). Defaults to 0.1.
        fusion_drop (float): Dropout before the LayerNorm. Defaults to 0.1.
        shared_norm (bool): One LayerNorm for all streams (the code); False
            for one per stream. Defaults to True.
        self_attention (bool): The paper's refinement. Defaults to False.
        temporal_align (dict, optional): Stream -> ``'frame'`` or
            ``'mean'`` for the streams other than video; missing streams
            are ``'mean'``.
        mlp_channels (sequence of int): Hidden sizes of the predictor.
            Defaults to ``(512, 256)``.
        mlp_dropouts (sequence of float): Their dropouts.
            Defaults to ``(0.5, 0.3)``.
        intensity (str): ``'softplus'``, ``'abs'`` or ``'none'`` (the
            code). Defaults to ``'softplus'``.
        loss (dict): The loss, called as ``loss(va, gt_va, va_mask)`` (plus
            ``pred_polar`` when its ``takes_pred_polar`` is True).
            Defaults to ``dict(type='VAMSELoss')``.
        init_cfg (dict or list, optional): Initialisation.
    """

    def __init__(self,
                 in_channels: Dict[str, int] = dict(
                     video=1024, audio=768, text=768),
                 embed_dim: int = 512,
                 num_heads: int = 2,
                 attn_drop: float = 0.1,
                 fusion_drop: float = 0.1,
                 shared_norm: bool = True,
                 self_attention: bool = False,
                 temporal_align: Optional[Dict[str, str]] = None,
                 mlp_channels: Sequence[int] = (512, 256),
                 mlp_dropouts: Sequence[float] = (0.5, 0.3),
                 intensity: str = 'softplus',
                 loss: ConfigType = dict(type='VAMSELoss'),
                 init_cfg=None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        if 'video' not in in_channels or len(in_channels) < 2:
            raise ValueError('MAVENHead needs "video" and at least one '
                             f'other stream, got {list(in_channels)}')
        if intensity not in INTENSITY:
            raise ValueError(f'intensity must be one of {list(INTENSITY)}, '
                             f'got {intensity!r}')
        self.streams = ('video', ) + tuple(
            s for s in in_channels if s != 'video')
        self.temporal_align = {s: 'mean' for s in self.streams[1:]}
        self.temporal_align.update(temporal_align or {})
        for stream, mode in self.temporal_align.items():
            if stream not in self.streams or mode not in ('frame', 'mean'):
                raise ValueError(
                    f'temporal_align: {stream!r}: {mode!r} (streams '
                    f"{self.streams[1:]}, modes 'frame', 'mean')")
        self.intensity = intensity
        self.proj = nn.ModuleDict(
            {s: nn.Linear(in_channels[s], embed_dim)
             for s in self.streams})
        # query <- key/value, in the code's order: v<-a, v<-t, a<-v, ...
        self.pathways = [(q, kv) for q in self.streams for kv in self.streams
                         if kv != q]
        self.cross_attns = nn.ModuleDict({
            f'{q}_{kv}':
            nn.MultiheadAttention(
                embed_dim, num_heads, dropout=attn_drop, batch_first=True)
            for q, kv in self.pathways
        })
        self.fusion_drop = nn.Dropout(fusion_drop)
        # the code's one LayerNorm for all streams, or one per stream
        self.norm = nn.LayerNorm(embed_dim) if shared_norm else \
            nn.ModuleDict({s: nn.LayerNorm(embed_dim) for s in self.streams})
        self.refine = nn.ModuleDict({
            s:
            TransformerEncoderLayer(
                embed_dim, num_heads, norm='post', attn_drop=attn_drop)
            for s in self.streams
        }) if self_attention else None
        self.reduce = TemporalReduce('mean')
        layers, width = [], embed_dim * len(self.streams)
        for channels, dropout in zip(mlp_channels, mlp_dropouts):
            layers += [
                nn.Linear(width, channels),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout)
            ]
            width = channels
        self.predictor = nn.Sequential(*layers, nn.Linear(width, 2))

    to_va = staticmethod(to_va)
    va_to_polar = staticmethod(va_to_polar)

    def _attend(self, pathway: str, query: torch.Tensor, keys: torch.Tensor,
                mask: Optional[torch.Tensor]) -> torch.Tensor:
        """One pathway, ``[B, N_q, E]``; zeros where every key is padding."""
        out, _ = self.cross_attns[pathway](
            query,
            keys,
            keys,
            key_padding_mask=_unmask_empty(mask),
            need_weights=False)  # [B, N_q, E]
        if mask is not None:
            out = out.masked_fill(mask.all(1)[:, None, None], 0.)
        return out

    def fuse(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Project, cross-attend, combine and align the streams.

        Args:
            feats (dict): Stream -> tokens ``[B, N, D]`` (or one token
                ``[B, D]``), ``<stream>_padding_mask`` bool ``[B, N]``.

        Returns:
            Tensor: ``[B, T, E * streams]``, per video frame.
        """
        tokens, masks = {}, {}
        for s in self.streams:
            x = feats[s]
            x = x[:, None] if x.ndim == 2 else x  # [B, N, D]
            tokens[s] = self.proj[s](x)  # [B, N, E]
            masks[s] = feats.get(s + PADDING_MASK_SUFFIX)  # [B, N] or None
            if masks[s] is not None and masks[s].shape != x.shape[:2]:
                raise ValueError(
                    f'{s}{PADDING_MASK_SUFFIX} {tuple(masks[s].shape)} does '
                    f'not match the {s} tokens {tuple(x.shape[:2])}')
        num_frames = tokens['video'].shape[1]
        aligned = []
        for s in self.streams:
            terms = [tokens[s]] + [
                self._attend(f'{q}_{kv}', tokens[q], tokens[kv], masks[kv])
                for q, kv in self.pathways if q == s
            ]
            norm = self.norm[s] if isinstance(self.norm,
                                              nn.ModuleDict) else self.norm
            x = norm(self.fusion_drop(torch.stack(terms).mean(0)))  # [B,N,E]
            if self.refine is not None:
                x = self.refine[s](x, _unmask_empty(masks[s]))  # [B, N, E]
            if s != 'video' and self.temporal_align[s] == 'mean':
                x = self.reduce(x, masks[s])  # [B, E]
                x = x[:, None].expand(-1, num_frames, -1)  # [B, T, E]
            else:
                if x.shape[1] != num_frames:
                    raise ValueError(
                        f"temporal_align {s}='frame' needs one {s} token per "
                        f'video frame: {x.shape[1]} tokens, {num_frames} '
                        'frames')
                if masks[s] is not None:
                    x = x.masked_fill(masks[s][..., None], 0.)  # [B, T, E]
            aligned.append(x)
        return torch.cat(aligned, dim=-1)  # [B, T, E * streams]

    def forward_polar(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``(theta, I)`` per video frame, ``[B, T, 2]``, ``I`` made
        non-negative as configured.

        Args:
            feats (dict): See :meth:`fuse`.

        Returns:
            Tensor: ``[B, T, 2]`` angle (radians, unbounded) and intensity.
        """
        theta, intensity = self.predictor(self.fuse(feats)).unbind(
            -1)  # [B, T], [B, T]
        return torch.stack([theta, INTENSITY[self.intensity](intensity)],
                           -1)  # [B, T, 2]

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Valence and arousal per video frame.

        Args:
            feats (dict): See :meth:`fuse`.

        Returns:
            Tensor: ``[B, T, 2]`` (valence, arousal).
        """
        return to_va(self.forward_polar(feats))  # [B, T, 2]

    def loss(self, feats: Dict[str, torch.Tensor],
             data_samples: SampleList) -> dict:
        """The loss of a batch, on ``(v, a)`` (and ``(theta, I)`` for a
        polar loss).

        Args:
            feats (dict): See :meth:`fuse`.
            data_samples (list): With ``gt_va`` and ``va_mask``.

        Returns:
            dict: ``loss_va``.
        """
        polar = self.forward_polar(
            self.with_padding_masks(feats, data_samples))  # [B, T, 2]
        gt, mask = self.stack_targets(data_samples)
        # losses without the property (e.g. CCCLoss) take (v, a) only
        extra = dict(pred_polar=polar) if getattr(
            self.loss_module, 'takes_pred_polar', False) else {}
        return dict(
            loss_va=self.loss_module(
                to_va(polar), gt.to(polar), mask, **extra))
