# Copyright (c) mmemo contributors. All rights reserved.
"""The CCC (function, CCCLoss, CCCMetric) against values computed by hand.

Expected numbers come from the formula written here with numpy
(``2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2)``), or by hand on a few
rows, never from the code under test.
"""
import os.path as osp
import pickle
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from helpers import free_port

from mmemo.evaluation import CCCMetric
from mmemo.evaluation.functional import concordance_cc

DIMS = ('valence', 'arousal')
WINDOW = 8  # sub-clips per sample
# different lengths; _left/_right: the two subjects of one video
VIDEOS = (('1-30-1280x720', 30), ('10-60-1280x720_left', 7),
          ('10-60-1280x720_right', 13))


def ccc_np(x, y, ddof=0) -> float:
    """The CCC formula of ``datasets.md`` §7, with numpy."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    s_xy = ((x - x.mean()) * (y - y.mean())).sum() / (len(x) - ddof)
    return 2 * s_xy / (
        x.var(ddof=ddof) + y.var(ddof=ddof) + (x.mean() - y.mean())**2)


def sample(video_id, frames, pred, gt, mask, num_frames) -> dict:
    """A data sample as ``ActionDataSample.to_dict()`` gives it."""
    return dict(
        video_id=video_id,
        target_frames=np.asarray(frames),
        num_frames=num_frames,
        pred_va=torch.as_tensor(np.asarray(pred, np.float32)),
        gt_va=torch.as_tensor(np.asarray(gt, np.float32)),
        va_mask=torch.as_tensor(np.asarray(mask, bool)))


def make_samples(seed=0, garbage=100.):
    """Sub-clip samples of the three videos, as the dataset yields them.

    About 20% of the frames are unannotated (gt -5, prediction
    ``garbage``); the last window of a video is padded (frame -1, gt -5,
    prediction ``garbage``).

    Returns:
        tuple: The samples and, per video, the annotated ``(pred, gt)``
        ``[N, 2]`` float32 arrays.
    """
    rng = np.random.default_rng(seed)
    samples, truth = [], {}
    for k, (video_id, n) in enumerate(VIDEOS):
        # each video its own level, so the CCC of the concatenation and the
        # mean of per-video CCCs differ
        offset = np.array([0.4 * k - 0.4, 0.3 - 0.3 * k])
        gt = (rng.uniform(-0.3, 0.3, (n, 2)) + offset).astype(np.float32)
        pred = (0.5 * gt + rng.normal(0, 0.15, (n, 2))).astype(np.float32)
        annotated = rng.random(n) > 0.2
        annotated[:2] = True
        gt[~annotated] = -5
        pred[~annotated] = garbage
        truth[video_id] = (pred[annotated], gt[annotated])
        for start in range(0, n, WINDOW):
            frames = np.arange(start, start + WINDOW)
            frames[frames >= n] = -1
            real = frames >= 0
            p = np.full((WINDOW, 2), garbage, np.float32)
            g = np.full((WINDOW, 2), -5, np.float32)
            p[real], g[real] = pred[frames[real]], gt[frames[real]]
            mask = np.zeros(WINDOW, bool)
            mask[real] = annotated[frames[real]]
            samples.append(sample(video_id, frames, p, g, mask, n))
    return samples, truth


def evaluate(samples, **kwargs) -> dict:
    metric = CCCMetric(**kwargs)
    # batches of 2, as a dataloader gives them
    for i in range(0, len(samples), 2):
        metric.process(None, samples[i:i + 2])
    return metric.evaluate(len(samples))


def one_video(pred, gt, **kwargs) -> dict:
    """The metric of a single sample holding every row."""
    n = len(pred)
    return evaluate([sample('v', np.arange(n), pred, gt, np.ones(n), n)],
                    **kwargs)


# ----------------------------------------------------------------- function
def test_function_hand_values_ddof():
    # x = [0, 1, 2], y = [1, 3, 2]: means 1 and 2, sum of products 1,
    # sums of squares 2 and 2
    x = torch.tensor([0., 1., 2.])
    y = torch.tensor([1., 3., 2.])
    # ddof=0: 2 (1/3) / (2/3 + 2/3 + 1) = 2/7
    assert float(concordance_cc(x, y)) == pytest.approx(2 / 7)
    # ddof=1: 2 (1/2) / (1 + 1 + 1) = 1/3, as HiCMAE's np.cov
    assert float(concordance_cc(x, y, ddof=1)) == pytest.approx(1 / 3)
    cov = np.cov(x.numpy(), y.numpy())
    assert 1 / 3 == pytest.approx(2 * cov[0, 1] / (cov[0, 0] + cov[1, 1] + 1))
    # per column of [N, D]
    both = concordance_cc(torch.stack([x, x], 1), torch.stack([y, x], 1))
    assert both.tolist() == pytest.approx([2 / 7, 1.])


def test_function_edge_cases():
    gt = torch.tensor([[-0.5, 0.2], [0.1, -0.4], [0.4, 0.2]])  # zero mean
    assert concordance_cc(gt, gt).tolist() == pytest.approx([1., 1.])
    assert concordance_cc(-gt, gt).tolist() == pytest.approx([-1., -1.])
    # constant prediction: no covariance
    const = torch.full_like(gt, 0.3)
    assert concordance_cc(const, gt).tolist() == [0., 0.]
    # constant prediction equal to a constant target: 0/0, 0 by convention
    assert concordance_cc(const, const).tolist() == [0., 0.]
    # masked rows do not count, whatever they hold
    garbage = torch.cat([gt, torch.full((2, 2), 1e6)])
    mask = torch.tensor([True, True, True, False, False])
    assert concordance_cc(garbage, torch.cat([gt, -5 * torch.ones(2, 2)]),
                          mask).tolist() == pytest.approx([1., 1.])
    # too few rows for the ddof
    assert concordance_cc(gt[:1], gt[:1] + 1, ddof=1).tolist() == [0., 0.]


# --------------------------------------------------------------------- loss
def test_loss_value_and_gradients():
    # imported here: the two-rank test's workers import this module, and
    # mmemo.models is the slow part of it
    from mmemo.models.losses import CCCLoss
    rng = np.random.default_rng(1)
    pred = torch.tensor(rng.normal(0, 0.5, (2, 6, 2)), requires_grad=True)
    target = torch.tensor(rng.uniform(-1, 1, (2, 6, 2)))
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[0, 4:] = False
    mask[1, 0] = False
    loss = CCCLoss()(pred, target, mask)
    p = pred.detach().numpy()[mask.numpy()]  # [N, 2]
    t = target.numpy()[mask.numpy()]
    expected = sum(1 - ccc_np(p[:, d], t[:, d], ddof=1) for d in range(2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    grad = pred.grad
    assert torch.isfinite(grad).all()
    assert (grad[mask] != 0).any(1).all()
    assert (grad[~mask] == 0).all()
    # the weight scales it
    assert CCCLoss(loss_weight=0.5)(pred, target, mask).item() == \
        pytest.approx(expected / 2, rel=1e-6)


def test_loss_of_an_all_masked_batch_is_finite_with_a_gradient():
    from mmemo.models.losses import CCCLoss
    pred = torch.randn(2, 4, 2, requires_grad=True)
    loss = CCCLoss()(pred, torch.full((2, 4, 2), -5.),
                     torch.zeros(2, 4, dtype=torch.bool))
    assert torch.isfinite(loss) and loss.item() == 0
    loss.backward()  # still in the graph: backward() and DDP work
    assert (pred.grad == 0).all()


# ------------------------------------------------------------------- metric
def test_metric_perfect_anti_correlated_and_constant():
    gt = np.array([[-0.5, 0.2], [0.1, -0.4], [0.4, 0.2], [0., 0.]])
    result = one_video(gt, gt)
    for dim in DIMS:
        assert result[f'va/ccc_{dim}'] == pytest.approx(1)
        assert result[f'va/pcc_{dim}'] == pytest.approx(1)
        assert result[f'va/mae_{dim}'] == pytest.approx(0, abs=1e-7)
        assert result[f'va/rmse_{dim}'] == pytest.approx(0, abs=1e-7)
    assert result['va/ccc_mean'] == pytest.approx(1)
    assert result['va/num_frames'] == 4
    # gt has zero mean, so pred = -gt is exactly anti-concordant
    result = one_video(-gt, gt)
    assert result['va/ccc_mean'] == pytest.approx(-1)
    assert result['va/pcc_mean'] == pytest.approx(-1)
    const = np.full_like(gt, 0.2)
    result = one_video(const, gt)
    assert result['va/ccc_mean'] == 0 and result['va/pcc_mean'] == 0
    # constant prediction equal to a constant target: 0 (convention)
    result = one_video(const, const)
    assert result['va/ccc_valence'] == 0 and result['va/ccc_arousal'] == 0


def test_metric_ddof_on_small_n():
    pred = np.array([[0., 0.], [1., 1.], [2., 2.]])
    gt = np.array([[1., 0.], [3., 2.], [2., 1.]])
    # valence: 2/7 (ddof 0), 1/3 (ddof 1), see test_function_hand_values;
    # arousal: means 1 and 1, s_xy = 1/3 or 1/2, s^2 = 2/3 or 1 each -> 1/2
    pop = one_video(pred, gt)
    unbiased = one_video(pred, gt, ddof=1)
    assert pop['va/ccc_valence'] == pytest.approx(2 / 7)
    assert unbiased['va/ccc_valence'] == pytest.approx(1 / 3)
    assert pop['va/ccc_arousal'] == pytest.approx(1 / 2)
    assert unbiased['va/ccc_arousal'] == pytest.approx(1 / 2)
    assert pop['va/ccc_mean'] == pytest.approx((2 / 7 + 1 / 2) / 2)
    # PCC does not depend on the ddof: 1/2 and 1/2
    for result in (pop, unbiased):
        assert result['va/pcc_valence'] == pytest.approx(1 / 2)
        assert result['va/pcc_arousal'] == pytest.approx(1 / 2)


def test_metric_concatenates_all_videos():
    samples, truth = make_samples()
    pred = np.concatenate([p for p, _ in truth.values()])  # [N, 2]
    gt = np.concatenate([g for _, g in truth.values()])
    result = evaluate(samples, per_video=True)
    assert result['va/num_frames'] == len(pred)
    err = pred.astype(np.float64) - gt
    for d, dim in enumerate(DIMS):
        concat = ccc_np(pred[:, d], gt[:, d])
        per_video = np.mean(
            [ccc_np(p[:, d], g[:, d]) for p, g in truth.values()])
        assert result[f'va/ccc_{dim}'] == pytest.approx(concat, rel=1e-9)
        # the ABAW number is not the mean of per-video CCCs
        assert abs(concat - per_video) > 0.05
        assert result[f'va/ccc_{dim}_per_video'] == pytest.approx(
            per_video, rel=1e-9)
        assert result[f'va/pcc_{dim}'] == pytest.approx(
            np.corrcoef(pred[:, d], gt[:, d])[0, 1], rel=1e-9)
        assert result[f'va/mae_{dim}'] == pytest.approx(
            np.abs(err[:, d]).mean(), rel=1e-9)
        assert result[f'va/rmse_{dim}'] == pytest.approx(
            np.sqrt((err[:, d]**2).mean()), rel=1e-9)
    for name in ('ccc', 'pcc', 'mae', 'rmse'):
        assert result[f'va/{name}_mean'] == pytest.approx(
            (result[f'va/{name}_valence'] + result[f'va/{name}_arousal']) / 2)
    assert result['va/ccc_mean_per_video'] == pytest.approx(
        (result['va/ccc_valence_per_video'] +
         result['va/ccc_arousal_per_video']) / 2)
    assert 'va/ccc_valence_per_video' not in evaluate(samples)
    # ddof=1 on the concatenation
    result = evaluate(samples, ddof=1)
    assert result['va/ccc_valence'] == pytest.approx(
        ccc_np(pred[:, 0], gt[:, 0], ddof=1), rel=1e-9)


def test_metric_ignores_masked_frames():
    samples, _ = make_samples()
    expected = evaluate(samples)
    for garbage in (-1e4, float('nan')):
        assert evaluate(make_samples(garbage=garbage)[0]) == expected
    # a float 0/1 mask reads the same
    for s in samples:
        s['va_mask'] = s['va_mask'].float()
    assert evaluate(samples) == expected


def test_metric_without_a_valid_frame():
    mask = np.zeros(WINDOW)
    result = evaluate([
        sample('v', np.arange(WINDOW), np.ones((WINDOW, 2)),
               np.full((WINDOW, 2), -5), mask, WINDOW)
    ])
    assert result['va/num_frames'] == 0
    assert result['va/ccc_mean'] == 0 and result['va/pcc_mean'] == 0
    # an error needs a frame: undefined, not a perfect 0
    assert np.isnan(result['va/mae_mean'])
    assert np.isnan(result['va/rmse_valence'])


def test_metric_rejects_a_frame_predicted_twice():
    samples, _ = make_samples()
    # an overlapping window: frames 4..11 of the first video again
    again = dict(samples[0])
    again['target_frames'] = np.arange(4, 12)
    with pytest.raises(ValueError, match=r"frame 4 of video '1-30-1280x720'"):
        evaluate(samples + [again])


def test_metric_writes_affwild2_prediction_files(tmp_path):
    samples, truth = make_samples()
    # a video with no annotated frame still gets its (all -5) file
    samples.append(
        sample('5-60-1920x1080', np.arange(WINDOW), np.zeros((WINDOW, 2)),
               np.full((WINDOW, 2), -5), np.zeros(WINDOW), 11))
    out = tmp_path / 'predictions'
    evaluate(samples, prediction_dir=str(out))
    assert sorted(
        p.name
        for p in out.iterdir()) == sorted([f'{v}.txt' for v, _ in VIDEOS] +
                                          ['5-60-1920x1080.txt'])
    for video_id, num_frames in VIDEOS + (('5-60-1920x1080', 11), ):
        lines = (out / f'{video_id}.txt').read_text().splitlines()
        assert lines[0] == 'valence,arousal'
        assert len(lines) == 1 + num_frames
        rows = np.array([[float(v) for v in line.split(',')]
                         for line in lines[1:]])
        annotated = rows[:, 0] != -5
        # the predictions, in frame order, where the frame is annotated
        if video_id in truth:
            np.testing.assert_allclose(
                rows[annotated], truth[video_id][0], atol=5e-7)
        else:
            assert not annotated.any()
        assert all(line == '-5,-5' for line, a in zip(lines[1:], annotated)
                   if not a)
        assert all(
            len(v.split('.')[1]) == 6 for line in lines[1:] if line != '-5,-5'
            for v in line.split(','))


# -------------------------------------------------------------- distributed
def _two_rank_worker(rank: int, port: int, out_dir: str) -> None:
    """One of two gloo ranks: process the sampler's share, then evaluate."""
    import torch.distributed as torch_dist
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=2,
        timeout=timedelta(seconds=60))
    try:
        from mmengine.dist import get_dist_info
        assert get_dist_info() == (rank, 2)
        samples, _ = make_samples()
        # DefaultSampler's split: pad to a multiple of the world size with
        # the first samples (rank 1 then sees sample 0 again), rank r takes
        # every other one from r
        indices = list(range(len(samples)))
        indices += indices[:len(indices) % 2]
        metric = CCCMetric(
            per_video=True,
            prediction_dir=osp.join(out_dir, 'predictions'),
            collect_dir=osp.join(out_dir, 'collect'))
        mine = indices[rank::2]
        for i in range(0, len(mine), 2):
            metric.process(None, [samples[j] for j in mine[i:i + 2]])
        metrics = metric.evaluate(len(samples))
        with open(osp.join(out_dir, f'rank{rank}.pkl'), 'wb') as f:
            pickle.dump(metrics, f)
    finally:
        torch_dist.destroy_process_group()


def test_metric_two_ranks_equal_one_process(tmp_path):
    samples, _ = make_samples()
    assert len(samples) % 2 == 1  # so the sampler pads with a repeat
    expected = evaluate(
        samples, per_video=True, prediction_dir=str(tmp_path / 'single'))
    mp.spawn(
        _two_rank_worker,
        args=(free_port(), str(tmp_path)),
        nprocs=2,
        join=True)
    for rank in (0, 1):  # rank 1 gets rank 0's result by broadcast
        with open(tmp_path / f'rank{rank}.pkl', 'rb') as f:
            assert pickle.load(f) == expected
    # only rank 0 wrote the files, the same as one process
    for video_id, _ in VIDEOS:
        name = f'{video_id}.txt'
        assert (tmp_path / 'predictions' / name).read_text() == \
            (tmp_path / 'single' / name).read_text()
