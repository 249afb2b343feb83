# Copyright (c) mmemo contributors. All rights reserved.
"""JCA: the paper's joint cross-attention (JCAHead) and the official
code's orig_cam CAM (JCACAMHead): parameter counts, shapes, fixed L,
temporal mixing, the video layout, gradients, loss and predict."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine import DefaultScope

from mmemo.models import (DenseCoAttention, JCACAMHead, JCAHead,
                          JointCrossAttention)
from mmemo.registry import MODELS

L, K = 16, 32  # sub-clips of the T-BIOM code; attention size k


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmemo'):
        return MODELS.build(cfg)


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def block_params(d_a: int, d_v: int) -> int:
    """The paper block: W_ja, W_jv (L×L), W_a, W_v (L×k), W_ca, W_cv
    (d×k), W_ha, W_hv (k×L), no biases."""
    d = d_a + d_v
    return 2 * L * L + 2 * L * K + 2 * d * K + 2 * K * L


def regressor_params(d: int) -> int:
    """FC(d → 128) + FC(128 → 1), with biases."""
    return d * 128 + 128 + 128 * 1 + 1


def cam_feats(batch=2, seq_len=L, map_shape=(512, 1, 7, 7)):
    return dict(
        audio=torch.randn(batch, seq_len, 512),
        video=torch.randn(batch, seq_len, *map_shape))


def head_feats(cfg, batch=2, seq_len=L):
    """Sub-clip features for a head: flat 512-d video for ``JCAHead``,
    the R(2+1)D map for ``JCACAMHead``."""
    flat = cfg['type'] == 'JCAHead'
    return cam_feats(batch, seq_len, (512, ) if flat else (512, 1, 7, 7))


def fake_samples(batch=2, seq_len=L):
    from mmaction.structures import ActionDataSample
    samples = []
    for i in range(batch):
        sample = ActionDataSample()
        sample.set_field(torch.rand(seq_len, 2) * 2 - 1, 'gt_va')
        mask = torch.ones(seq_len, dtype=torch.bool)
        mask[i::4] = False  # some unannotated sub-clips
        sample.set_field(mask, 'va_mask')
        samples.append(sample)
    return samples


def test_paper_block_parameters_at_the_jcam_512_setting():
    jca = JointCrossAttention(L, 512, 512, K)
    # 2·16·16 + 2·16·32 + 2·1024·32 + 2·32·16 = 512 + 1024 + 65536 + 1024
    assert num_params(jca) == block_params(512, 512) == 68096
    # Jcam_512: the block and ONE regressor on the 1024-d fusion
    assert regressor_params(1024) == 1024 * 128 + 128 + 129 == 131329
    assert num_params(jca) + regressor_params(1024) == 199425  # spec: 199k
    head = build(dict(type='JCAHead'))
    assert isinstance(head, JCAHead)
    assert num_params(head.jca) == 68096
    assert num_params(head.valence) == num_params(head.arousal) == 131329
    # ours: the block and a valence and an arousal regressor
    assert num_params(head) == 68096 + 2 * 131329 == 330754


def test_paper_block_parameters_at_the_cam_py_setting():
    head = build(dict(type='JCAHead', enc_channels=128))
    encoders = 2 * (512 * 128 + 128)  # FC 512 → 128 per stream
    assert num_params(head.audio_encoder) + num_params(
        head.video_encoder) == encoders == 131328
    # d = 128 + 128: 512 + 1024 + 2·256·32 + 1024
    assert num_params(head.jca) == block_params(128, 128) == 18944
    # both attended streams: 256-d regressor inputs
    assert num_params(head.valence) == regressor_params(256) == 33025
    ours = encoders + 18944 + 2 * regressor_params(256)
    assert num_params(head) == ours == 216322
    # the official cam.py keeps a 640-d regressor input (issue #4's raw
    # 512-d visual + 128-d attended): the spec's 315k
    official = encoders + 18944 + 2 * regressor_params(640)
    assert official == 314626
    assert round(official, -3) == 315000
    assert ours == official - 2 * (640 - 256) * 128


def test_cam_head_parameters():
    head = build(dict(type='JCACAMHead'))
    attn = head.position_attn
    # PositionAttn: FC 512→512 on the positions and on the audio, the
    # additive scores (FC_v 512→49, FC_g 512→49, FC 49→1, no biases), the
    # output FC 512→512
    assert num_params(attn.video_proj) == num_params(attn.audio_proj) == \
        num_params(attn.out) == 512 * 512 + 512 == 262656
    assert num_params(attn.pool) == 512 * 49 + 512 * 49 + 49 == 50225
    assert num_params(attn) == 3 * 262656 + 50225 == 838193
    # DenseCoAttn: one shared J' FC 1024→1024; per stream FC L→L over
    # time, FC 512→512 values, FC 1024→512 output
    per_stream = (L * L + L) + (512 * 512 + 512) + (1024 * 512 + 512)
    assert num_params(head.coattn) == (1024 * 1024 + 1024) + 2 * per_stream
    assert num_params(head.coattn) == 2625056
    # 2-layer BiLSTM, 256 per direction: 4 gates × (W_ih, W_hh, 2 biases)
    layer1 = 2 * 4 * 256 * (1024 + 256 + 2)
    layer2 = 2 * 4 * 256 * (512 + 256 + 2)
    assert num_params(head.lstm) == layer1 + layer2 == 4202496
    initial_states = 2 * (2 * 2) * 256  # h_0, c_0: [layers × dirs, 1, 256]
    assert head.init_h.numel() + head.init_c.numel() == initial_states
    assert num_params(head.fc) == 1536 * 512 + 512 == 786944
    regressors = 2 * (512 * 128 + 128 + 128 + 1)
    total = 838193 + 2625056 + 4202496 + initial_states + 786944 + regressors
    assert num_params(head) == total == 8586323
    # the spec's 8.59M (the official class, built on CPU)
    assert round(total / 1e6, 2) == 8.59
    # a J' per stream would add 1,049,600 and give 9.64M: it is shared
    assert round((total + 1024 * 1024 + 1024) / 1e6, 2) == 9.64


@pytest.mark.parametrize(
    'cfg',
    [
        dict(type='JCAHead'),
        dict(type='JCAHead', enc_channels=128),
        # a flattened map, encoded first: the block's C_v alone would be
        # [B, 25088, 25600] without the encoder
        dict(type='JCAHead', video_channels=512 * 49, enc_channels=128),
    ])
def test_paper_head_shapes(cfg):
    head = build(cfg).eval()
    video_shape = (512, 1, 7, 7) if cfg.get('video_channels') else (512, )
    out = head(cam_feats(3, map_shape=video_shape))
    assert out.shape == (3, L, 2)


def test_cam_head_shapes_and_map_layouts():
    torch.manual_seed(0)
    head = build(dict(type='JCACAMHead')).eval()
    feats = cam_feats(3)  # [B, L, 512, 1, 7, 7]
    out = head(feats)
    assert out.shape == (3, L, 2)
    # the map without its time axis: [B, L, 512, 7, 7]
    squeezed = dict(audio=feats['audio'], video=feats['video'][:, :, :, 0])
    assert torch.allclose(head(squeezed), out)
    with pytest.raises(AssertionError, match='512 channels × 49 positions'):
        head(cam_feats(3, map_shape=(256, 7, 7)))


def test_paper_block_matches_the_per_sample_code():
    """The batched block against cam.py's per-sample loop of torch.mm."""
    torch.manual_seed(0)
    jca = JointCrossAttention(L, 64, 48, K)
    audio, video = torch.randn(2, L, 64), torch.randn(2, L, 48)
    att_a, att_v = jca(audio, video)
    for i in range(2):
        aud, vis = audio[i], video[i]  # [L, d_a], [L, d_v]
        joint = torch.cat((aud, vis), 1)  # [L, d]
        scale = math.sqrt(joint.shape[1])
        a_t = jca.w_ja(joint.transpose(0, 1))  # [d, L]
        c_a = torch.tanh(
            torch.mm(aud.transpose(0, 1), a_t.transpose(0, 1)) /
            scale)  # [d_a, d]
        v_t = jca.w_jv(joint.transpose(0, 1))  # [d, L]
        c_v = torch.tanh(
            torch.mm(vis.transpose(0, 1), v_t.transpose(0, 1)) /
            scale)  # [d_v, d]
        h_a = torch.relu(jca.w_ca(c_a) + jca.w_a(aud.transpose(0, 1)))
        h_v = torch.relu(jca.w_cv(c_v) + jca.w_v(vis.transpose(0, 1)))
        assert torch.allclose(
            att_a[i], jca.w_ha(h_a).transpose(0, 1) + aud, atol=1e-5)
        assert torch.allclose(
            att_v[i], jca.w_hv(h_v).transpose(0, 1) + vis, atol=1e-5)


def test_jcam_512_regressor_input_is_one_switch_away():
    """The paper's regressor input ``[att_a, att_v]`` by default; the
    released ``Jcam_512``'s ``[v, att_v]`` with ``regressor_input``."""
    torch.manual_seed(0)
    paper = build(dict(type='JCAHead')).eval()
    code = build(dict(type='JCAHead', regressor_input='jcam_512')).eval()
    code.load_state_dict(paper.state_dict())  # the same shapes at 512
    audio, video = torch.randn(2, L, 512), torch.randn(2, L, 512)
    with torch.no_grad():
        att_a, att_v = paper.jca(audio, video)
        expected = code.valence(torch.cat([video, att_v], dim=-1))
        got = code(dict(audio=audio, video=video))
        assert torch.allclose(got[..., 0], expected, atol=1e-6)
        ours = paper(dict(audio=audio, video=video))
        assert torch.allclose(
            ours[..., 0],
            paper.valence(torch.cat([att_a, att_v], dim=-1)),
            atol=1e-6)
        assert not torch.allclose(got, ours)
    with pytest.raises(ValueError, match='jcam_512'):
        build(dict(type='JCAHead', regressor_input='raw'))


def test_dense_coattention_equations():
    torch.manual_seed(0)
    coattn = DenseCoAttention(L, 32, 24, dropout=0.6).eval()
    audio, video = torch.randn(2, L, 32), torch.randn(2, L, 24)
    out_a, out_v = coattn(audio, video)
    joint = coattn.joint(torch.cat([audio, video], -1))  # [B, L, 56]
    s_a = torch.tanh(
        coattn.key_a(audio.transpose(1, 2)) @ joint / math.sqrt(56))
    attended = torch.relu(torch.tanh(coattn.value_a(audio) @ s_a))
    expected = audio + torch.relu(coattn.out_a(attended))
    assert out_a.shape == (2, L, 32) and out_v.shape == (2, L, 24)
    assert torch.allclose(out_a, expected, atol=1e-5)


@pytest.mark.parametrize('cfg', [
    dict(type='JointCrossAttention', audio_channels=512, video_channels=512),
    dict(type='DenseCoAttention', audio_channels=512, video_channels=512),
])
def test_blocks_assert_the_fixed_length(cfg):
    block = build(dict(cfg, seq_len=L))
    with pytest.raises(AssertionError, match='seq_len=16'):
        block(torch.randn(2, 8, 512), torch.randn(2, 8, 512))


@pytest.mark.parametrize('cfg', [
    dict(type='JCAHead'),
    dict(type='JCACAMHead'),
])
def test_heads_assert_the_fixed_length(cfg):
    head = build(cfg).eval()
    with pytest.raises(AssertionError, match='audio has 8 time steps'):
        head(head_feats(cfg, seq_len=8))


def test_paper_head_mixes_time_through_the_l_by_l_weights():
    torch.manual_seed(0)
    head = build(dict(type='JCAHead')).eval()
    feats = dict(audio=torch.randn(2, L, 512), video=torch.randn(2, L, 512))
    out = head(feats)
    moved = dict(audio=feats['audio'].clone(), video=feats['video'].clone())
    moved['audio'][:, 5] += 1
    moved['video'][:, 5] -= 1
    changed = (head(moved) - out).abs().amax(dim=(0, 2))  # [L]
    # step 5's inputs move every other step's valence and arousal
    assert (changed > 1e-6).all()
    # without the attended term (W_ha = W_hv = 0) each step is alone
    with torch.no_grad():
        head.jca.w_ha.weight.zero_()
        head.jca.w_hv.weight.zero_()
    changed = (head(moved) - head(feats)).abs().amax(dim=(0, 2))  # [L]
    assert changed[5] > 1e-6
    assert torch.all(changed[torch.arange(L) != 5] == 0)


def official_position_attn(attn, flat, audio):
    """``orig_cam.PositionAttn`` as the spec describes the code, on the
    weights of an mmemo ``PositionAttn`` (FC_v without bias; FC_g's 49
    outputs unsqueezed at dim 2, one offset per position)."""
    pool = attn.pool
    positions = flat.reshape(-1, 49, 512)  # the code's .view(-1, 49, 512)
    v = torch.relu(positions @ attn.video_proj.weight.T +
                   attn.video_proj.bias)  # [N, 49, 512]
    a = torch.relu(
        audio.reshape(-1, 512) @ attn.audio_proj.weight.T +
        attn.audio_proj.bias)  # [N, 512]
    content_v = v @ pool.x_proj.weight.T  # [N, 49 positions, 49]
    content_g = (a @ pool.g_proj.weight.T).unsqueeze(2)  # [N, 49, 1]
    z = torch.tanh(content_v + content_g) @ pool.score.weight.T  # [N,49,1]
    alpha = z.squeeze(2).softmax(dim=-1)  # [N, 49]
    pooled = torch.bmm(alpha.unsqueeze(1), positions).squeeze(1)  # [N, 512]
    return pooled @ attn.out.weight.T + attn.out.bias


def test_cam_head_computes_the_official_position_attention():
    torch.manual_seed(0)
    head = build(dict(type='JCACAMHead')).eval()
    attn = head.position_attn
    assert attn.pool.x_proj.bias is None  # the code's FC_v has no bias
    with torch.no_grad():  # larger scores than at init: differences show
        for param in attn.pool.parameters():
            param.mul_(10)
        flat = F.normalize(torch.randn(2 * L, 512 * 49), dim=-1)
        audio = F.normalize(torch.randn(2 * L, 512), dim=-1)
        expected = official_position_attn(attn, flat, audio)
        got = attn(head._positions(flat.view(2, L, -1)), audio)
        assert torch.allclose(got, expected, atol=1e-6)
        # the usual additive attention is one switch away, and differs
        other = build(dict(type='JCACAMHead', guide_over='hidden')).eval()
        other.load_state_dict(head.state_dict())
        changed = other.position_attn(
            other._positions(flat.view(2, L, -1)), audio)
        assert (changed - expected).abs().max() > 1e-3


def test_official_view_changes_the_result():
    torch.manual_seed(0)
    head = build(dict(type='JCACAMHead', official_view=False)).eval()
    official = build(dict(type='JCACAMHead')).eval()
    official.load_state_dict(head.state_dict())
    maps = torch.randn(2, L, 512, 7, 7)
    flat = maps.flatten(2)  # [B, L, 25088], C×H×W as in the code
    # correct: position p = 7h + w holds the 512 channels there
    positions = head._positions(flat)  # [B·L, 49, 512]
    assert torch.equal(positions[1 * L + 3, 7 * 2 + 5], maps[1, 3, :, 2, 5])
    # official: the code's .view(-1, 49, 512)
    assert torch.equal(official._positions(flat), flat.view(-1, 49, 512))
    feats = dict(audio=torch.randn(2, L, 512), video=maps)
    assert not torch.allclose(head(feats), official(feats))


@pytest.mark.parametrize('cfg', [
    dict(type='JCAHead'),
    dict(type='JCAHead', enc_channels=128),
    dict(type='JCACAMHead'),
])
def test_gradients_reach_every_parameter(cfg):
    torch.manual_seed(0)
    head = build(dict(cfg, loss=dict(type='CCCLoss')))
    head.init_weights()
    head.train()
    losses = head.loss(head_feats(cfg, 4), fake_samples(4))
    assert set(losses) == {'loss_ccc'}
    losses['loss_ccc'].backward()
    for name, param in head.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    'cfg',
    [dict(type='JCAHead'), dict(type='JCACAMHead')])
def test_loss_and_predict(cfg):
    torch.manual_seed(0)
    head = build(cfg)
    head.init_weights()
    samples = fake_samples()
    loss = head.loss(head_feats(cfg), samples)['loss_ccc']
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert 0 <= loss.item() <= 4  # Σ over V, A of 1 - CCC ∈ [0, 2]
    head.eval()
    with torch.no_grad():
        feats = head_feats(cfg)
        samples = head.predict(feats, samples)
        expected = head(feats)
    for sample, value in zip(samples, expected):
        assert sample.pred_va.shape == (L, 2)
        assert torch.equal(sample.pred_va, value)


def test_cam_head_xavier_initialisation():
    torch.manual_seed(0)
    head = JCACAMHead()
    head.init_weights()
    for name, param in head.named_parameters():
        if param.dim() > 1 and not name.startswith('init_'):
            fan_out, fan_in = param.shape[0], param[0].numel()
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert param.abs().max() <= bound, name
    # the learnable initial states start at zero
    assert not head.init_h.any() and not head.init_c.any()
    # the LSTM's input weights: Xavier over [4·256, 1024], not PyTorch's
    # U(±1/√256) default
    weight = head.lstm.weight_ih_l0
    assert weight.abs().max() <= math.sqrt(6 / (1024 + 4 * 256))
    assert weight.abs().max() > 0.9 * math.sqrt(6 / (1024 + 4 * 256))


@pytest.mark.parametrize('scale', [1.0, 30.0])
@pytest.mark.parametrize('d_a, d_v', [(64, 48), (128, 128)])
def test_fused_paper_block_matches_the_plain_ops(d_a, d_v, scale):
    """The fused ``tanh(·) W_c`` (TanhCorrelationProject, default) against
    the equations as plain autograd ops (``fused=False``): outputs and the
    gradients of the inputs and of every weight. ``scale`` 30 saturates
    the tanh (the clamped sigmoid's range)."""
    torch.manual_seed(0)
    fused = JointCrossAttention(L, d_a, d_v, K)
    plain = JointCrossAttention(L, d_a, d_v, K, fused=False)
    plain.load_state_dict(fused.state_dict())
    assert fused.fused and not plain.fused
    audio = (torch.randn(3, L, d_a) * scale).requires_grad_()
    video = (torch.randn(3, L, d_v) * scale).requires_grad_()
    grad_a, grad_v = torch.randn(3, L, d_a), torch.randn(3, L, d_v)
    results = []
    for block in (plain, fused):
        att_a, att_v = block(audio, video)
        params = [p for _, p in sorted(block.named_parameters())]
        grads = torch.autograd.grad((att_a, att_v), [audio, video] + params,
                                    (grad_a, grad_v))
        results.append((att_a, att_v, grads))
    (ref_a, ref_v, ref_grads), (att_a, att_v, grads) = results
    tol = dict(rtol=1e-5, atol=1e-5 * scale)
    torch.testing.assert_close(att_a, ref_a, **tol)
    torch.testing.assert_close(att_v, ref_v, **tol)
    assert len(grads) == 2 + 8
    for grad, ref in zip(grads, ref_grads):
        torch.testing.assert_close(
            grad, ref, rtol=1e-5, atol=1e-5 * ref.abs().max().item())


def test_fused_paper_head_matches_the_plain_ops():
    """The whole JCAHead (Jcam_512 sizes), fused vs plain: forward and
    every parameter's gradient through the CCC loss."""
    torch.manual_seed(0)
    head = build(dict(type='JCAHead'))
    feats = head_feats(dict(type='JCAHead'), batch=2)
    samples = fake_samples(2)
    results = []
    for fused in (False, True):
        head.jca.fused = fused
        torch.manual_seed(1)  # the regressors' dropout masks
        out = head(feats)
        torch.manual_seed(1)
        loss = sum(head.loss(feats, samples).values())
        grads = torch.autograd.grad(loss, list(head.parameters()))
        results.append((out, grads))
    (ref_out, ref_grads), (out, grads) = results
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-5)
    for grad, ref in zip(grads, ref_grads):
        torch.testing.assert_close(
            grad, ref, rtol=1e-5, atol=1e-5 * ref.abs().max().item())


def test_fused_paper_block_under_cpu_autocast():
    """Under autocast the fused block runs in the autocast dtype and
    returns finite values close to the float32 block's."""
    torch.manual_seed(0)
    block = JointCrossAttention(L, 32, 32, K)
    audio = torch.randn(2, L, 32, requires_grad=True)
    video = torch.randn(2, L, 32)
    ref_a, _ = block(audio, video)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        att_a, att_v = block(audio, video)
    assert torch.isfinite(att_a).all() and torch.isfinite(att_v).all()
    torch.testing.assert_close(
        att_a.float(), ref_a, rtol=0.05, atol=0.05 * ref_a.abs().max().item())
    (att_a.float().sum() + att_v.float().sum()).backward()
    assert torch.isfinite(audio.grad).all()
