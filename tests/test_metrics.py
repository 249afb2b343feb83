# Copyright (c) mmemo contributors. All rights reserved.
"""EmotionClsMetric against values computed by hand."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch

from mmemo.evaluation import EmotionClsMetric
from mmemo.evaluation.metrics.emotion_cls_metric import (classification_scores,
                                                         confusion_matrix)


def samples(labels, preds, num_classes=4, key=None):
    out = []
    for label, pred in zip(labels, preds):
        score = torch.full((num_classes, ), 0.1)
        score[pred] = 0.9
        out.append(
            dict(
                gt_label=torch.tensor([label]),
                pred_score=score if key is None else {key: score}))
    return out


def test_scores_by_hand_with_a_class_that_never_occurs():
    # 4 classes; class 3 never occurs in the truth, but is predicted once
    labels = [0, 0, 0, 1, 1, 2]
    preds = [0, 0, 1, 1, 3, 2]
    matrix = confusion_matrix(np.array(labels), np.array(preds), 4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0],
                               [0, 0, 0, 0]]
    scores = classification_scores(matrix)
    # WAR: 4 of 6 right
    assert scores['war'] == pytest.approx(4 / 6)
    # UAR over the classes that occur: (2/3 + 1/2 + 1) / 3
    assert scores['uar'] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # per class F1: c0 P=1 R=2/3 -> 0.8; c1 P=1/2 R=1/2 -> 0.5;
    # c2 1.0; c3 predicted but absent -> 0
    f1 = [0.8, 0.5, 1.0, 0.0]
    assert scores['macro_f1'] == pytest.approx(np.mean(f1))
    assert scores['weighted_f1'] == pytest.approx(
        (3 * 0.8 + 2 * 0.5 + 1 * 1.0) / 6)


def test_class_neither_true_nor_predicted_is_ignored():
    matrix = confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 5)
    scores = classification_scores(matrix)
    assert scores['uar'] == pytest.approx((1 + 0.5) / 2)
    # F1: c0 P=1/2 R=1 -> 2/3; c1 P=1 R=1/2 -> 2/3; classes 2-4 unseen
    assert scores['macro_f1'] == pytest.approx(2 / 3)


def test_metric_with_per_modality_scores_and_confusion_image(tmp_path):
    from mmengine.visualization import LocalVisBackend, Visualizer
    Visualizer.get_instance(
        'metric_test',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    metric = EmotionClsMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    labels = [0, 0, 0, 1, 1, 2]
    batch = samples(labels, [0, 0, 1, 1, 3, 2], key='fusion')
    audio = samples(labels, [0, 0, 0, 0, 0, 0])
    for sample, aud in zip(batch, audio):
        sample['pred_score']['audio'] = aud['pred_score']
    metric.process(None, batch)
    results = metric.evaluate(size=6)
    assert results['emo/war'] == pytest.approx(4 / 6)
    assert results['emo/audio/war'] == pytest.approx(3 / 6)
    assert results['emo/audio/uar'] == pytest.approx(1 / 3)
    assert results['emo/confusion_matrix'][1] == [0, 1, 0, 1]
    images = glob.glob(
        osp.join(str(tmp_path), '**', 'confusion_matrix*.png'), recursive=True)
    assert images, 'the confusion matrix was not drawn'
    assert LocalVisBackend  # the backend that wrote it


def test_metric_plain_scores_and_sizes():
    metric = EmotionClsMetric(num_classes=4, confusion=False)
    metric.process(None, samples([0, 1, 2, 3], [0, 1, 2, 2]))
    results = metric.evaluate(size=4)
    assert results == pytest.approx({
        'emo/war': 0.75,
        'emo/uar': 0.75,
        'emo/macro_f1': (1 + 1 + 2 / 3 + 0) / 4,
        'emo/weighted_f1': (1 + 1 + 2 / 3 + 0) / 4
    })
