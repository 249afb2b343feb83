# Copyright (c) mmemo contributors. All rights reserved.
"""CMU-MOSEI's evaluation: sentiment regression (MMSA) and multi-label
emotion presence (Graph-MFN / MulT), as plain NumPy functions."""
import warnings
from typing import Dict, Sequence

import numpy as np


def binary_weighted_f1(true: np.ndarray, pred: np.ndarray) -> float:
    """Weighted F1 of a binary task, as sklearn's ``f1_score(true, pred,
    average='weighted')``: each class's F1 (0 where undefined) weighted by
    its share of the ground truth.

    Args:
        true (np.ndarray): ``[N]`` bool ground truth.
        pred (np.ndarray): ``[N]`` bool predictions.

    Returns:
        float: The weighted F1 (NaN without samples).
    """
    true, pred = np.asarray(true, bool), np.asarray(pred, bool)
    if not len(true):
        return float('nan')
    total = 0.
    for cls in (False, True):
        tp = np.sum((pred == cls) & (true == cls))
        wrong = np.sum(pred != true)  # FP + FN of either class
        f1 = 2 * tp / (2 * tp + wrong) if 2 * tp + wrong else 0.
        total += f1 * np.sum(true == cls)
    return float(total / len(true))


def mosei_sentiment_scores(pred: np.ndarray,
                           true: np.ndarray) -> Dict[str, float]:
    """MMSA's ``MetricsTop.__eval_mosei_regression`` (also used for MOSI).

    - ``mae``: mean ``|pred - true|``;
    - ``corr``: Pearson correlation (``np.corrcoef``; NaN when either side
      is constant, as there);
    - ``acc_7`` / ``acc_5``: both sides clipped to [-3, 3] / [-2, 2], then
      rounded with ``np.round`` (halves to even), share of equal values;
    - ``acc_2_has0``, ``f1_has0``: negative vs. non-negative, ``>= 0`` on
      both sides (the pre-2019 convention);
    - ``acc_2_non0``, ``f1_non0``: samples labelled exactly 0 are dropped,
      then negative vs. positive, ``> 0`` (NaN if every label is 0);
    - the F1 scores are weighted (:func:`binary_weighted_f1`).

    MMSA rounds each value to 4 decimals when it reports them; these are
    not rounded.

    Args:
        pred (np.ndarray): ``[N]`` predicted sentiment.
        true (np.ndarray): ``[N]`` labelled sentiment in [-3, 3].

    Returns:
        dict: The eight scores.
    """
    pred = np.asarray(pred, np.float64).reshape(-1)
    true = np.asarray(true, np.float64).reshape(-1)
    assert pred.shape == true.shape, (pred.shape, true.shape)
    with warnings.catch_warnings(), np.errstate(all='ignore'):
        warnings.simplefilter('ignore', RuntimeWarning)
        corr = float(np.corrcoef(pred, true)[0, 1]) if len(pred) > 1 \
            else float('nan')

    def multiclass_acc(bound: float) -> float:
        return float(
            np.mean(
                np.round(np.clip(pred, -bound, bound)) == np.round(
                    np.clip(true, -bound, bound))))

    non_zero = true != 0
    return dict(
        mae=float(np.mean(np.abs(pred - true))),
        corr=corr,
        acc_7=multiclass_acc(3.),
        acc_5=multiclass_acc(2.),
        acc_2_has0=float(np.mean((pred >= 0) == (true >= 0))),
        f1_has0=binary_weighted_f1(true >= 0, pred >= 0),
        acc_2_non0=float(
            np.mean((pred[non_zero] > 0) == (true[non_zero] > 0)))
        if non_zero.any() else float('nan'),
        f1_non0=binary_weighted_f1(true[non_zero] > 0, pred[non_zero] > 0))


def weighted_accuracy(true: np.ndarray, pred: np.ndarray) -> float:
    """Weighted accuracy of a binary task, ``(TP * N / P + TN) / (2 N)``
    (Tong et al. 2017, used for MOSEI's emotions by Graph-MFN and MulT):
    the mean of the recalls of the positive and the negative class.

    Args:
        true (np.ndarray): ``[N]`` bool ground truth.
        pred (np.ndarray): ``[N]`` bool predictions.

    Returns:
        float: The weighted accuracy; NaN when either class is absent
        from the ground truth (the formula divides by zero).
    """
    true, pred = np.asarray(true, bool), np.asarray(pred, bool)
    positives, negatives = np.sum(true), np.sum(~true)
    if not positives or not negatives:
        return float('nan')
    tp, tn = np.sum(true & pred), np.sum(~true & ~pred)
    return float((tp * negatives / positives + tn) / (2 * negatives))


def emotion_presence_scores(pred: np.ndarray,
                            intensity: np.ndarray,
                            names: Sequence[str],
                            threshold: float = 0.) -> Dict[str, float]:
    """Per-emotion weighted accuracy and weighted F1 of presence.

    An emotion is present when its labelled intensity is > 0 and predicted
    present when its output is > ``threshold`` (0 on logits = probability
    0.5; MulT's ``> 0`` on its outputs).

    Args:
        pred (np.ndarray): ``[N, E]`` emotion outputs (logits).
        intensity (np.ndarray): ``[N, E]`` labelled intensities in [0, 3].
        names (sequence of str): The ``E`` emotion names, for the keys.
        threshold (float): Decision threshold on ``pred``. Defaults to 0.

    Returns:
        dict: ``wacc_<name>`` and ``f1_<name>`` per emotion, and their
        means over the emotions where they are defined, ``wacc_mean`` and
        ``f1_mean``.
    """
    pred = np.asarray(pred, np.float64)
    intensity = np.asarray(intensity, np.float64)
    assert pred.shape == intensity.shape == (len(pred), len(names)), \
        (pred.shape, intensity.shape, len(names))
    true, predicted = intensity > 0, pred > threshold
    scores: Dict[str, float] = {}
    for k, name in enumerate(names):
        scores[f'wacc_{name}'] = weighted_accuracy(true[:, k], predicted[:, k])
        scores[f'f1_{name}'] = binary_weighted_f1(true[:, k], predicted[:, k])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # all NaN
        for metric in ('wacc', 'f1'):
            scores[f'{metric}_mean'] = float(
                np.nanmean([scores[f'{metric}_{n}'] for n in names]))
    return scores
