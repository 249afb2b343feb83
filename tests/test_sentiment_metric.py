# Copyright (c) mmemo contributors. All rights reserved.
"""CMU-MOSEI's metrics and loss against values worked out by hand."""
import math

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample

from mmemo.evaluation.functional import (binary_weighted_f1,
                                         emotion_presence_scores,
                                         mosei_sentiment_scores,
                                         weighted_accuracy)
from mmemo.evaluation.metrics import SentimentMetric
from mmemo.models.losses import SentimentEmotionLoss

# Six segments. Two are labelled exactly 0, so Has0 and Non0 differ.
TRUE = [-2.4, -0.6, 0.0, 0.0, 1.5, 2.4]
PRED = [-1.6, 0.4, -0.2, 0.3, 2.5, 3.4]
# Two emotions per segment: "happy" is present in 2 of 6 (intensity > 0),
# "sad" in none.
INTENSITY = [[0, 0], [1 / 3, 0], [2, 0], [0, 0], [0, 0], [0, 0]]
LOGITS = [[-1.0, -1.0], [0.5, -1.0], [-2.0, 0.5], [0.2, -1.0], [-0.3, -1.0],
          [-0.1, -1.0]]


def test_sentiment_scores_by_hand():
    scores = mosei_sentiment_scores(np.array(PRED), np.array(TRUE))
    # |errors| 0.8 1.0 0.2 0.3 1.0 1.0 -> 4.3 / 6
    assert scores['mae'] == pytest.approx(4.3 / 6)
    # means: true 0.9/6 = 0.15, pred 4.8/6 = 0.8
    # dt = -2.55 -0.75 -0.15 -0.15 1.35 2.25
    # dp = -2.4  -0.4  -1.0  -0.5  1.7  2.6
    # sum dt*dp = 14.79, sum dt^2 = 13.995, sum dp^2 = 16.82
    assert scores['corr'] == pytest.approx(14.79 / math.sqrt(13.995 * 16.82))
    # Acc-7, clip to [-3, 3] then np.round (halves to even):
    #   pred -1.6 0.4 -0.2 0.3 2.5 3.0 -> -2 0 0 0 2 3
    #   true -2.4 -0.6 0 0 1.5 2.4     -> -2 -1 0 0 2 2
    # equal at 0, 2, 3, 4 (2.5 -> 2, 1.5 -> 2: rounding half up would
    # miss index 4) -> 4/6
    assert scores['acc_7'] == pytest.approx(4 / 6)
    # Acc-5, clip to [-2, 2]: pred -> -2 0 0 0 2 2, true -> -2 -1 0 0 2 2
    assert scores['acc_5'] == pytest.approx(5 / 6)
    # Has0: true >= 0 F F T T T T, pred >= 0 F T F T T T -> 4/6
    assert scores['acc_2_has0'] == pytest.approx(4 / 6)
    # F1(T) = 2*3 / (2*3 + FP 1 + FN 1) = 0.75 (support 4)
    # F1(F) = 2*1 / (2*1 + 1 + 1) = 0.5 (support 2) -> (3 + 1) / 6
    assert scores['f1_has0'] == pytest.approx(4 / 6)
    # Non0 drops the two zero labels: true > 0 F F T T, pred > 0 F T T T
    assert scores['acc_2_non0'] == pytest.approx(3 / 4)
    # F1(T) = 4/5 (support 2), F1(F) = 2/3 (support 2)
    assert scores['f1_non0'] == pytest.approx((0.8 + 2 / 3) / 2)
    assert scores['acc_2_has0'] != scores['acc_2_non0']


def test_sentiment_edge_cases():
    # every label 0: Non0 has no sample; a constant side: corr is NaN
    scores = mosei_sentiment_scores(np.array([0.5, -0.5]), np.zeros(2))
    assert math.isnan(scores['acc_2_non0']) and math.isnan(scores['f1_non0'])
    assert math.isnan(scores['corr'])
    assert scores['acc_2_has0'] == 0.5
    # a perfect prediction
    perfect = mosei_sentiment_scores(np.array(TRUE), np.array(TRUE))
    assert perfect['mae'] == 0 and perfect['corr'] == pytest.approx(1)
    assert all(perfect[k] == 1 for k in ('acc_7', 'acc_5', 'acc_2_has0',
                                         'f1_has0', 'acc_2_non0', 'f1_non0'))


def test_weighted_f1_and_accuracy_by_hand():
    true = np.array([True, True, False, False, False, False])
    pred = np.array([True, False, True, False, False, False])
    # F1(T) = 2 / (2 + 2) = 0.5 (support 2); F1(F) = 6 / 8 (support 4)
    assert binary_weighted_f1(true, pred) == pytest.approx((1 + 3) / 6)
    # (TP * N / P + TN) / 2N = (1 * 4 / 2 + 3) / 8; plain accuracy is 4/6
    assert weighted_accuracy(true, pred) == pytest.approx(5 / 8)
    assert math.isnan(weighted_accuracy(true & False, pred))  # P = 0
    # only one class anywhere: sklearn's F1 is 1
    assert binary_weighted_f1(true | True, pred | True) == 1


def test_emotion_presence_by_hand():
    scores = emotion_presence_scores(
        np.array(LOGITS), np.array(INTENSITY), ['happy', 'sad'])
    # happy: true F T T F F F, logit > 0 -> F T F T F F
    # TP 1, TN 3, P 2, N 4: (1 * 4/2 + 3) / 8
    assert scores['wacc_happy'] == pytest.approx(5 / 8)
    # F1(T) = 2/4 (support 2), F1(F) = 6/8 (support 4)
    assert scores['f1_happy'] == pytest.approx(4 / 6)
    # sad: never present -> weighted accuracy undefined; F1(F) = 10/11
    assert math.isnan(scores['wacc_sad'])
    assert scores['f1_sad'] == pytest.approx(10 / 11)
    # means over the defined values
    assert scores['wacc_mean'] == pytest.approx(5 / 8)
    assert scores['f1_mean'] == pytest.approx((4 / 6 + 10 / 11) / 2)
    # threshold 0.3 on the logits: happy -> F T F F F F, TP 1, TN 4
    higher = emotion_presence_scores(
        np.array(LOGITS), np.array(INTENSITY), ['happy', 'sad'], 0.3)
    assert higher['wacc_happy'] == pytest.approx((1 * 4 / 2 + 4) / 8)


def _samples(preds, gts):
    samples = []
    for pred, gt in zip(preds, gts):
        sample = ActionDataSample()
        sample.set_field(torch.tensor(gt, dtype=torch.float32), 'gt_label')
        sample.set_pred_score(pred)
        samples.append(sample.to_dict())
    return samples


def test_metric_reads_pred_score_and_gt_label():
    gt = [[t, *e] for t, e in zip(TRUE, INTENSITY)]  # [6, 3]
    fused = [[p, *lg] for p, lg in zip(PRED, LOGITS)]
    metric = SentimentMetric(emotions=('happy', 'sad'))
    # per-modality dicts, as AVRecognizer's modality_scores gives them
    metric.process(
        None,
        _samples([
            dict(fusion=torch.tensor(f), audio=torch.zeros(3)) for f in fused
        ], gt))
    # a seventh segment without emotion labels (an MMSA pickle's NaN):
    # its sentiment counts, its emotions do not
    metric.process(
        None,
        _samples(
            [dict(fusion=torch.tensor([1.0, 5.0, 5.0]), audio=torch.zeros(3))],
            [[1.0, float('nan'), float('nan')]]))
    metrics = metric.evaluate(7)
    assert metrics['mosei/mae'] == pytest.approx(4.3 / 7)
    assert metrics['mosei/wacc_happy'] == pytest.approx(5 / 8)
    assert metrics['mosei/f1_mean'] == pytest.approx((4 / 6 + 10 / 11) / 2)
    # the audio-only entry predicts 0 everywhere: sentiment >= 0 (right for
    # the 5 labels 0, 0, 1.5, 2.4, 1.0) and no emotion (logit 0 is not > 0:
    # TP 0, TN 4 -> (0 + 4) / 8)
    assert metrics['mosei/audio/acc_2_has0'] == pytest.approx(5 / 7)
    assert metrics['mosei/audio/wacc_happy'] == pytest.approx(0.5)


def test_metric_sentiment_only_head():
    metric = SentimentMetric()
    metric.process(
        None,
        _samples([torch.tensor([p]) for p in PRED],
                 [[t] + [float('nan')] * 6 for t in TRUE]))
    metrics = metric.evaluate(6)
    assert metrics['mosei/acc_2_non0'] == pytest.approx(3 / 4)
    assert not any('wacc' in k for k in metrics)


def test_loss_by_hand():
    loss = SentimentEmotionLoss(emotion_weight=0.5)
    pred = torch.tensor([[0.5, 0.0, 2.0], [-1.0, -1.0, 0.0]],
                        requires_grad=True)
    target = torch.tensor([[1.5, 0.0, 1.0], [-1.0, 2.0, float('nan')]])
    losses = loss(pred, target)
    # L1: (|0.5 - 1.5| + 0) / 2
    assert losses['loss_sentiment'].item() == pytest.approx(0.5)
    # BCE with logits on the 3 given emotions (the NaN one is left out):
    # (logit 0, absent) ln 2; (2, present) ln(1 + e^-2);
    # (-1, present) ln(1 + e)
    bce = (math.log(2) + math.log(1 + math.exp(-2)) + math.log(1 + math.e)) / 3
    assert losses['loss_emotion'].item() == pytest.approx(0.5 * bce)
    sum(losses.values()).backward()
    assert pred.grad[1, 2] == 0  # no gradient from the unlabelled emotion
    # a batch of one (mmaction's BaseHead squeezes it to [7]), no emotion
    one = loss(
        torch.zeros(1, 7, requires_grad=True),
        torch.tensor([0.5] + [float('nan')] * 6))
    assert one['loss_sentiment'].item() == pytest.approx(0.5)
    assert one['loss_emotion'].item() == 0
    one['loss_emotion'].backward()  # still in the graph
