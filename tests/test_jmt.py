# Copyright (c) mmemo contributors. All rights reserved.
"""JMT: parameter counts against models.md §3, shapes, weight sharing,
aggregation, gradients and the BaseVAHead loss/predict."""
import pytest
import torch
import torch.nn as nn
from mmengine import DefaultScope

from mmemo.models import JMTHead
from mmemo.registry import MODELS

D = 512  # stream and fusion width
FFN = 512  # encoder feed-forward size
L = 16  # sub-clips per window

# nn.MultiheadAttention(D) with biases: in_proj (3 D x D + 3 D), out_proj
MHA = 4 * D * D + 4 * D  # 1,050,624
# post-LN encoder layer: MHA, FFN D -> FFN -> D, two LayerNorms
ENCODER = MHA + (D * FFN + FFN) + (FFN * D + D) + 2 * 2 * D  # 1,577,984
JOINT_FC = 2 * D * D + D  # FC(1024 -> 512)


def regressor(d: int) -> int:
    return (d * 128 + 128) + (128 + 1)  # FC(d -> 128), FC(128 -> 1)


# V, A, J encoders, the three per-query cross-attention MHAs
STREAMS = JOINT_FC + 3 * ENCODER + 3 * MHA
SELF_ATTN_PARAMS = STREAMS + (ENCODER + MHA) + 2 * regressor(D)
FC_PARAMS = STREAMS + (6 * D * 2 * D + 2 * D) + 2 * regressor(2 * D)
VANILLA_PARAMS = 2 * ENCODER + 2 * MHA + (2 * D * D + D) + 2 * regressor(D)
# the official model's unused final_encoder: a 3072-d post-LN encoder
# layer with a 512 FFN
FINAL_ENCODER = (4 * 3072 * 3072 + 4 * 3072) + (3072 * 512 + 512) + (
    512 * 3072 + 3072) + 2 * 2 * 3072


def build(**cfg) -> JMTHead:
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(dict(type='JMTHead', **cfg))


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def record_outputs(modules: nn.ModuleDict) -> dict:
    """Hooks that store each module's last output under its name."""
    outputs = {}
    for name, module in modules.items():

        def hook(module, args, out, name=name):  # output unchanged
            outputs[name] = out

        module.register_forward_hook(hook)
    return outputs


def fake_feats(batch: int = 3, length: int = L) -> dict:
    return dict(
        video=torch.randn(batch, length, D),
        audio=torch.randn(batch, length, D))


def fake_samples(batch: int = 3, length: int = L) -> list:
    from mmaction.structures import ActionDataSample
    samples = []
    for i in range(batch):
        sample = ActionDataSample()
        sample.set_field(torch.rand(length, 2) * 2 - 1, 'gt_va')
        mask = torch.ones(length, dtype=torch.bool)
        mask[length - i:] = False  # some unannotated sub-clips
        sample.set_field(mask, 'va_mask')
        samples.append(sample)
    return samples


@pytest.mark.parametrize('aggregation, expected, official', [
    ('self_attn', 11170818, 11.17),
    ('fc', 11820034, 11.82),
    ('none', 5913602, 5.91),
])
def test_parameter_counts(aggregation, expected, official):
    head = build(aggregation=aggregation)
    total = num_params(head)
    arithmetic = dict(
        self_attn=SELF_ATTN_PARAMS, fc=FC_PARAMS, none=VANILLA_PARAMS)
    assert total == expected == arithmetic[aggregation]
    assert round(total / 1e6, 2) == official
    if aggregation != 'none':
        # the official totals hold the unused 40.92M final_encoder
        assert round(FINAL_ENCODER / 1e6, 2) == 40.92
        assert round((total + FINAL_ENCODER) / 1e6, 2) == dict(
            self_attn=52.09, fc=52.74)[aggregation]


def test_num_layers():
    one, two = build(), build(num_layers=2)
    # one more layer in each of the V, A, J encoders, not the aggregator
    assert num_params(two) - num_params(one) == 3 * ENCODER
    assert len(two.agg_encoder) == 1
    assert two(fake_feats()).shape == (3, L, 2)


@pytest.mark.parametrize('aggregation', ['self_attn', 'fc', 'none'])
def test_output_is_batch_first(aggregation):
    torch.manual_seed(0)
    head = build(aggregation=aggregation).eval()
    feats = fake_feats(batch=3)  # B != L
    perm = torch.tensor([2, 0, 1])
    with torch.no_grad():
        out = head(feats)
        permuted = head({k: v[perm] for k, v in feats.items()})
    assert out.shape == (3, L, 2)
    assert torch.allclose(permuted, out[perm], atol=1e-5)
    # no mixing across the batch: a sample alone gives the same output
    with torch.no_grad():
        one = head({k: v[:1] for k, v in feats.items()})
    assert torch.allclose(one, out[:1], atol=1e-5)


def test_the_codes_sequence_first_order_is_one_switch_away():
    """The official FC path returns ``[L, B]``; flattened against
    ``[B, L]`` labels, prediction ``i`` belongs to (time ``i // B``,
    sample ``i % B``)."""
    torch.manual_seed(0)
    head = build(aggregation='fc').eval()
    code = build(aggregation='fc', layout='sequence_first').eval()
    code.load_state_dict(head.state_dict())
    feats = fake_feats(batch=3)  # B != L
    with torch.no_grad():
        out, got = head(feats), code(feats)
    assert got.shape == out.shape == (3, L, 2)
    flat = got.reshape(-1, 2)  # the order the code's training flattens
    for i in (0, 1, 5, 3 * L - 1):
        assert torch.equal(flat[i], out[i % 3, i // 3])
    assert not torch.allclose(got, out)
    with pytest.raises(ValueError, match='sequence_first'):
        build(aggregation='self_attn', layout='sequence_first')


def test_inputs_are_l2_normalised():
    torch.manual_seed(0)
    head = build().eval()
    feats = fake_feats()
    scale = torch.rand(3, L, 1) * 10 + 0.1
    with torch.no_grad():
        out = head(feats)
        scaled = head({k: v * scale for k, v in feats.items()})
    assert torch.allclose(out, scaled, atol=1e-5)


@pytest.mark.parametrize('aggregation, streams', [('self_attn', 3), ('fc', 3),
                                                  ('none', 2)])
def test_cross_attention_shared_per_query(aggregation, streams):
    torch.manual_seed(0)
    head = build(aggregation=aggregation).eval()
    assert len(head.cross_attns) == streams
    assert all(
        isinstance(m, nn.MultiheadAttention)
        for m in head.cross_attns.values())
    # every MHA of the head: one per encoder, the cross-attentions and the
    # aggregator's encoder layer and self-attention
    mhas = [m for m in head.modules() if isinstance(m, nn.MultiheadAttention)]
    extra = 2 if aggregation == 'self_attn' else 0
    assert len(mhas) == 2 * streams + extra

    encoded, calls = record_outputs(head.encoders), []
    for name, attn in head.cross_attns.items():
        attn.register_forward_hook(lambda m, args, out, name=name: calls.
                                   append((name, args[0], args[1])))
    with torch.no_grad():
        head(fake_feats())
    uses = dict(
        video=2, audio=2, joint=2) if streams == 3 else dict(
            video=1, audio=1)
    assert {n: [c[0] for c in calls].count(n) for n in uses} == uses
    for name, query, key in calls:  # the query is the module's modality
        assert query is encoded[name] and key is not encoded[name]


def test_self_attn_aggregation_order_and_last_token():
    torch.manual_seed(0)
    head = build().eval()
    encoded, seen = record_outputs(head.encoders), {}
    aggregate = head.aggregate

    def record(tokens):
        seen['tokens'] = tokens
        seen['out'] = aggregate(tokens)
        return seen['out']

    head.aggregate = record
    with torch.no_grad():
        head(fake_feats())
        tokens = seen['tokens']
        assert tokens.shape == (3, L, 6, D)
        # [v<-a, a<-v, j<-v, v<-j, j<-a, a<-j]
        order = [('video', 'audio'), ('audio', 'video'), ('joint', 'video'),
                 ('video', 'joint'), ('joint', 'audio'), ('audio', 'joint')]
        for i, (query, source) in enumerate(order):
            expected, _ = head.cross_attns[query](encoded[query],
                                                  encoded[source],
                                                  encoded[source])
            assert torch.allclose(tokens[:, :, i], expected, atol=1e-6)
        # full self-attention over the 6 tokens of each time step, then
        # the last one
        x = head.agg_encoder(tokens.flatten(0, 1))  # [B*L, 6, D]
        full, _ = head.agg_attn(x, x, x)  # [B*L, 6, D]
        full = full.view(3, L, 6, D)
    assert seen['out'].shape == (3, L, D)
    assert torch.allclose(seen['out'], full[:, :, -1], atol=1e-5)
    assert not torch.allclose(seen['out'], full[:, :, 0], atol=1e-3)


@pytest.mark.parametrize('aggregation', ['self_attn', 'fc', 'none'])
def test_gradients_reach_every_parameter(aggregation):
    torch.manual_seed(0)
    head = build(aggregation=aggregation, loss=dict(type='CCCLoss'))
    head.train()
    losses = head.loss(fake_feats(), fake_samples())
    assert set(losses) == {'loss_ccc'}
    loss = losses['loss_ccc']
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for name, param in head.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_predict():
    torch.manual_seed(0)
    head = build(dropout=0.3).eval()
    assert head.valence.layers[2].p == head.arousal.layers[2].p == 0.3
    feats, samples = fake_feats(), fake_samples()
    with torch.no_grad():
        out = head(feats)
        samples = head.predict(feats, samples)
    for i, sample in enumerate(samples):
        assert sample.pred_va.shape == (L, 2)
        assert torch.allclose(sample.pred_va, out[i])


def test_invalid_aggregation():
    with pytest.raises(AssertionError):
        build(aggregation='mean')
