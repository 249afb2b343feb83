# Copyright (c) mmemo contributors. All rights reserved.
import logging
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmemo.evaluation.functional import (emotion_presence_scores,
                                         mosei_sentiment_scores)
from mmemo.registry import METRICS
from .ccc_metric import _to_numpy

#: MOSEI's emotions, in the order of the label vector after the sentiment.
DEFAULT_EMOTIONS = ('happy', 'sad', 'anger', 'surprise', 'disgust', 'fear')


@METRICS.register_module()
class SentimentMetric(BaseMetric):
    """CMU-MOSEI metrics: sentiment regression and emotion presence.

    A sample brings ``pred_score`` ``[1 + E]`` (the predicted sentiment,
    then E emotion logits) and ``gt_label`` ``[7]`` (``[sentiment, happy,
    sad, anger, surprise, disgust, fear]``, NaN emotions where the source
    has none), as ``AVTCAHead(num_classes=7, average_clips='score')`` and
    the MOSEI datasets (``BaseMoseiDataset`` subclasses) give them.

    - Sentiment (:func:`mosei_sentiment_scores`, MMSA's
      ``__eval_mosei_regression``): ``mae``, ``corr``, ``acc_7``,
      ``acc_5``, ``acc_2_has0``, ``f1_has0``, ``acc_2_non0``, ``f1_non0``.
    - Emotions (:func:`emotion_presence_scores`), when the predictions have
      emotion outputs and samples have emotion labels: ``wacc_<emotion>``
      (weighted accuracy, Tong et al. 2017) and ``f1_<emotion>`` (weighted
      F1) of presence, intensity > 0 vs. logit > ``emotion_threshold``,
      and their means ``wacc_mean``, ``f1_mean``; over the samples whose
      emotions are labelled.

    With ``pred_score`` a dict of per-modality scores (AVRecognizer's
    ``modality_scores``) every entry is scored; the ``main`` entry gives
    the un-prefixed names, the others ``<key>/<metric>``. Works in
    distributed evaluation: one entry per sample is gathered.

    Args:
        emotions (sequence of str): Names of the emotion outputs, for the
            keys. Defaults to the dataset's ``emotions`` or MOSEI's six.
        emotion_threshold (float): A logit above it predicts presence.
            Defaults to 0 (probability 0.5).
        main (str): The dict entry reported without a prefix.
            Defaults to ``'fusion'``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to
            ``'mosei'``.
        collect_dir (str, optional): Shared directory where the ranks'
            results are gathered with ``collect_device='cpu'``.
    """

    default_prefix: Optional[str] = 'mosei'

    def __init__(self,
                 emotions: Optional[Sequence[str]] = None,
                 emotion_threshold: float = 0.,
                 main: str = 'fusion',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        self.emotions = None if emotions is None else tuple(emotions)
        self.emotion_threshold = emotion_threshold
        self.main = main

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample's label vector and predictions.

        Args:
            data_batch: Unused.
            data_samples (sequence of dict): Outputs of the model.
        """
        for sample in data_samples:
            scores = sample['pred_score']
            if not isinstance(scores, dict):
                scores = {self.main: scores}
            self.results.append(
                dict(
                    gt=_to_numpy(sample['gt_label']).astype(
                        np.float64).reshape(-1),
                    preds={
                        k: _to_numpy(v).astype(np.float64).reshape(-1)
                        for k, v in scores.items()
                    }))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score every entry of the gathered results.

        Args:
            results (list[dict]): From all ranks.

        Returns:
            dict: Metric name -> value.
        """
        gt = np.stack([r['gt'] for r in results])  # [N, 7]
        names = self.emotions or tuple(
            (self.dataset_meta or {}).get('emotions', DEFAULT_EMOTIONS))
        labelled = ~np.isnan(gt[:, 1:]).any(1)  # [N] emotions given
        metrics: Dict[str, float] = {}
        for key in results[0]['preds']:
            pred = np.stack([r['preds'][key] for r in results])  # [N, C]
            scores = mosei_sentiment_scores(pred[:, 0], gt[:, 0])
            emotions = pred.shape[1] - 1
            if emotions and gt.shape[1] > 1 and labelled.any():
                if emotions != len(names) or emotions != gt.shape[1] - 1:
                    raise ValueError(
                        f'{emotions} emotion outputs, {gt.shape[1] - 1} '
                        f'emotion labels and {len(names)} emotion names '
                        f'({names}) do not match')
                logits = pred[labelled, 1:]  # [N', E]
                intensity = gt[labelled, 1:]  # [N', E]
                scores.update(
                    emotion_presence_scores(logits, intensity, names,
                                            self.emotion_threshold))
            elif emotions and key == self.main:
                print_log(
                    'SentimentMetric: no sample has emotion labels; only '
                    'the sentiment is scored',
                    logger='current',
                    level=logging.INFO)
            name = '' if key == self.main else f'{key}/'
            metrics.update({name + k: v for k, v in scores.items()})
        return metrics
