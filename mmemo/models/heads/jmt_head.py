# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.utils import ConfigType

from mmemo.registry import MODELS
from ..layers import TransformerEncoderLayer
from .base_va_head import BaseVAHead, VARegressor

# (query, key/value) of the six cross-attentions, in the order the official
# ``SELF_ATTEN`` aggregation stacks them: the last one (a <- j) is kept
JOINT_PATHWAYS = (('video', 'audio'), ('audio', 'video'), ('joint', 'video'),
                  ('video', 'joint'), ('joint', 'audio'), ('audio', 'joint'))
# the vanilla model without the joint stream (official ``NONE``)
VANILLA_PATHWAYS = (('video', 'audio'), ('audio', 'video'))


@MODELS.register_module()
class JMTHead(BaseVAHead):
    """JMT's fusion: the joint multimodal transformer.

    Waligora et al., "Joint Multimodal Transformer for Emotion Recognition
    in the Wild", CVPRW (ABAW-6) 2024, arXiv 2403.10488 (code:
    github.com/PoloWlg/Joint-Multimodal-Transformer-6th-ABAW,
    ``MultimodalTransformer_w_JR``).

    1. V and A ``[B, L, D]`` are L2-normalised along the features and the
       joint representation is ``J = FC(2D -> D)([V; A])``.
    2. One post-LN transformer encoder per stream (V, A, J).
    3. Six cross-attentions (query <- keys/values) from three MHAs, one
       per query modality, shared by its two pairings; no residual, no LN.
    4. Aggregation per time step: ``'self_attn'`` stacks the six outputs
       as a 6-token sequence ``[v<-a, a<-v, j<-v, v<-j, j<-a, a<-j]``,
       applies one encoder layer and one MHA self-attention and keeps the
       last token (``D``); ``'fc'`` concatenates them (``6D``) and maps
       them with ``FC(6D -> 2D)``. ``'none'`` is the vanilla ablation
       (``MultimodalTransformer_wo_JR``): no joint stream, V and A
       encoders, ``v<-a`` and ``a<-v``, concatenation and ``FC(2D -> D)``.
    5. Separate valence and arousal regressors
       ``FC(-> 128) -> ReLU -> Dropout -> FC(128 -> 1)``.

    Unlike the official code the output is batch-first for every
    aggregation: its ``FC`` path returns ``[L, B]`` and training flattens
    it against ``[B, L]`` labels, so predictions and labels are misaligned
    (a bug, fixed by default; ``layout='sequence_first'`` reproduces it:
    the ``[L, B]`` order read as ``[B, L]``). The unused 3072-d
    ``final_encoder`` (40.92M parameters) is not built. The code's
    vanilla ablation (``'none'``) feeds batch-first tensors to
    sequence-first attention, so it attends across the batch; mmemo's
    ``'none'`` attends over time and does not reproduce that.

    Args:
        in_channels (int): Feature size D of both streams, also the width
            of the fusion. Defaults to 512.
        num_heads (int): Heads of every attention. Defaults to 1.
        num_layers (int): Encoder layers per stream (V, A, J); the
            ``'self_attn'`` aggregation has one. Defaults to 1.
        ffn_dim (int): Feed-forward hidden size of the encoder layers.
            Defaults to 512.
        aggregation (str): ``'self_attn'`` (the README recipe), ``'fc'``
            (the official default config) or ``'none'`` (no joint stream).
            Defaults to ``'self_attn'``.
        dropout (float): Dropout in the valence and arousal regressors.
            Defaults to 0.6.
        layout (str): ``'batch_first'`` or ``'sequence_first'`` (the
            official ``FC`` path's misaligned order; ``aggregation='fc'``
            only). Defaults to ``'batch_first'``.
        loss (dict): The loss. Defaults to ``dict(type='CCCLoss')``.
        init_cfg (dict or list, optional): Initialisation.
    """

    def __init__(self,
                 in_channels: int = 512,
                 num_heads: int = 1,
                 num_layers: int = 1,
                 ffn_dim: int = 512,
                 aggregation: str = 'self_attn',
                 dropout: float = 0.6,
                 layout: str = 'batch_first',
                 loss: ConfigType = dict(type='CCCLoss'),
                 init_cfg=None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        assert aggregation in ('self_attn', 'fc', 'none'), aggregation
        if layout not in ('batch_first',
                          'sequence_first') or (layout == 'sequence_first'
                                                and aggregation != 'fc'):
            raise ValueError(
                "layout must be 'batch_first' or 'sequence_first' (with "
                f"aggregation='fc' only), got {layout!r} with {aggregation!r}")
        self.aggregation = aggregation
        self.layout = layout
        dim = in_channels

        def encoder(layers: int) -> nn.Sequential:
            # post-LN, ReLU FFN, no dropout: the official encoder layers
            return nn.Sequential(*[
                TransformerEncoderLayer(dim, num_heads, ffn_dim, norm='post')
                for _ in range(layers)
            ])

        def attention() -> nn.MultiheadAttention:
            # nn.MultiheadAttention as in the code: the same parameters and
            # state-dict layout (in_proj_weight / out_proj)
            return nn.MultiheadAttention(dim, num_heads, batch_first=True)

        streams = ('video', 'audio')
        if aggregation == 'none':
            self.pathways = VANILLA_PATHWAYS
        else:
            self.pathways = JOINT_PATHWAYS
            streams += ('joint', )
            self.joint_fc = nn.Linear(2 * dim, dim)
        self.encoders = nn.ModuleDict(
            {s: encoder(num_layers)
             for s in streams})
        # one MHA per query modality, shared by its two pairings
        self.cross_attns = nn.ModuleDict({s: attention() for s in streams})
        if aggregation == 'self_attn':
            self.agg_encoder = encoder(1)
            self.agg_attn = attention()
            out_channels = dim
        elif aggregation == 'fc':
            self.agg_fc = nn.Linear(6 * dim, 2 * dim)
            out_channels = 2 * dim
        else:
            self.agg_fc = nn.Linear(2 * dim, dim)
            out_channels = dim
        self.valence = VARegressor(out_channels, 128, dropout)
        self.arousal = VARegressor(out_channels, 128, dropout)

    def cross_attend(self, encoded: Dict[str,
                                         torch.Tensor]) -> List[torch.Tensor]:
        """The cross-attentions of ``self.pathways``, in their order.

        Args:
            encoded (dict): The encoded streams ``[B, L, D]``.

        Returns:
            list[Tensor]: One ``[B, L, D]`` per pathway.
        """
        outs = []
        for query, source in self.pathways:
            out, _ = self.cross_attns[query](
                encoded[query],
                encoded[source],
                encoded[source],
                need_weights=False)  # [B, L, D]
            outs.append(out)
        return outs

    def aggregate(self, tokens: torch.Tensor) -> torch.Tensor:
        """The ``'self_attn'`` aggregation of the six pathway outputs.

        Args:
            tokens (Tensor): ``[B, L, 6, D]``, the pathways of each time
                step as a 6-token sequence.

        Returns:
            Tensor: The last token's output ``[B, L, D]``.
        """
        b, l, n, d = tokens.shape
        x = self.agg_encoder(tokens.reshape(b * l, n, d))  # [B*L, 6, D]
        # only the last token is kept, so it is the only query needed: the
        # same result as full self-attention, without the other 5 rows
        x, _ = self.agg_attn(
            x[:, -1:], x, x, need_weights=False)  # [B*L, 1, D]
        return x.view(b, l, d)  # [B, L, D]

    def forward(self, feats: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Fuse the sub-clip features into valence and arousal.

        Args:
            feats (dict): ``video`` and ``audio`` features ``[B, L, D]``.

        Returns:
            Tensor: ``[B, L, 2]`` (valence, arousal).
        """
        streams = dict(
            video=F.normalize(feats['video'], dim=-1),  # [B, L, D]
            audio=F.normalize(feats['audio'], dim=-1))  # [B, L, D]
        if self.aggregation != 'none':
            streams['joint'] = self.joint_fc(
                torch.cat([streams['video'], streams['audio']],
                          dim=-1))  # [B, L, D]
        encoded = {s: self.encoders[s](x) for s, x in streams.items()}
        outs = self.cross_attend(encoded)
        if self.aggregation == 'self_attn':
            x = self.aggregate(torch.stack(outs, dim=2))  # [B, L, D]
        else:
            x = self.agg_fc(torch.cat(outs,
                                      dim=-1))  # [B, L, 2D] (fc), [B, L, D]
        out = torch.stack([self.valence(x), self.arousal(x)],
                          dim=-1)  # [B, L, 2]
        if self.layout == 'sequence_first':
            # the code's [L, B] values, flattened and read as [B, L]
            out = out.transpose(0, 1).reshape(out.shape)  # [B, L, 2]
        return out
