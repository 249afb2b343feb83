# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub
from mmengine.visualization import Visualizer

from mmemo.registry import METRICS


def confusion_matrix(labels: np.ndarray, preds: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Counts ``C[t, p]`` of samples of true class t predicted as p."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, preds), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    Precision, recall and F1 are 0 where undefined (no prediction, no
    sample, or both 0), as sklearn's ``zero_division=0``.

    Args:
        matrix (np.ndarray): ``[K, K]`` confusion matrix (rows = truth).

    Returns:
        dict: ``precision``, ``recall``, ``f1`` (float ``[K]``) and
        ``support`` (ground-truth samples per class, ``[K]``).
    """
    matrix = matrix.astype(np.float64)
    support = matrix.sum(axis=1)  # [K] true samples per class
    predicted = matrix.sum(axis=0)  # [K] predictions per class
    hits = np.diag(matrix)
    recall = np.divide(
        hits, support, out=np.zeros_like(hits), where=support > 0)
    precision = np.divide(
        hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(
        2 * precision * recall,
        denom,
        out=np.zeros_like(hits),
        where=denom > 0)
    return dict(precision=precision, recall=recall, f1=f1, support=support)


def classification_scores(matrix: np.ndarray) -> Dict[str, float]:
    """WAR, UAR and F1 scores from a confusion matrix.

    Definitions (``datasets.md`` §7, as sklearn computes them):

    - WAR (weighted average recall) = accuracy = trace / N;
    - UAR (unweighted average recall) = mean recall over the classes that
      occur in the ground truth (a class with no sample has no recall;
      sklearn's ``balanced_accuracy_score``);
    - F1 per class = 2PR / (P + R), 0 when undefined; macro-F1 averages it
      over the classes that occur in the ground truth or the predictions
      (sklearn's ``f1_score(average='macro')``), weighted-F1 weights it by
      the ground-truth support.

    Args:
        matrix (np.ndarray): ``[K, K]`` confusion matrix (rows = truth).

    Returns:
        dict: ``war``, ``uar``, ``macro_f1``, ``weighted_f1`` in [0, 1].
    """
    scores = per_class_scores(matrix)
    support, recall, f1 = scores['support'], scores['recall'], scores['f1']
    hits = np.diag(matrix).astype(np.float64)
    total = support.sum()
    occurs = support > 0
    seen = occurs | (matrix.sum(axis=0) > 0)
    return dict(
        war=float(hits.sum() / total) if total else 0.,
        uar=float(recall[occurs].mean()) if occurs.any() else 0.,
        macro_f1=float(f1[seen].mean()) if seen.any() else 0.,
        weighted_f1=float((f1 * support).sum() / total) if total else 0.)


@METRICS.register_module()
class EmotionClsMetric(BaseMetric):
    """Emotion classification metrics: WAR, UAR, macro-F1, weighted-F1.

    Works in distributed evaluation (MMEngine gathers the per-sample
    results). With ``pred_score`` a dict of per-modality scores (e.g.
    ``{'fusion': ..., 'audio': ..., 'video': ...}``) every entry is scored;
    the ``main`` entry gives the un-prefixed names, the others
    ``<key>/<metric>``. The main entry's confusion matrix is returned as a
    nested list (rows = truth) and drawn to the visualizer's backends (a PNG
    under ``<work_dir>/<timestamp>/vis_data`` with ``LocalVisBackend``).

    Args:
        num_classes (int, optional): Classes; by default the dataset's
            ``classes`` or the score size.
        main (str): The dict entry reported without a prefix.
            Defaults to ``'fusion'``.
        confusion (bool): Return and draw the confusion matrix.
            Defaults to True.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'emo'``.
    """

    default_prefix: Optional[str] = 'emo'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 main: str = 'fusion',
                 confusion: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes
        self.main = main
        self.confusion = confusion

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each sample's predicted label per score entry and its label.

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
                    label=int(sample['gt_label']),
                    preds={
                        k: int(torch.as_tensor(v).argmax())
                        for k, v in scores.items()
                    },
                    num_scores=int(
                        torch.as_tensor(next(iter(scores.values()))).numel())))

    def compute_metrics(self, results: List[dict]) -> Dict[str, object]:
        """Score every entry of the gathered results.

        Args:
            results (list[dict]): From all ranks.

        Returns:
            dict: Metric name -> value.
        """
        classes = (self.dataset_meta or {}).get('classes')
        num_classes = self.num_classes or (len(classes) if classes else
                                           results[0]['num_scores'])
        labels = np.array([r['label'] for r in results])
        metrics: Dict[str, object] = {}
        for key in results[0]['preds']:
            preds = np.array([r['preds'][key] for r in results])
            matrix = confusion_matrix(labels, preds, num_classes)
            name = '' if key == self.main else f'{key}/'
            for metric, value in classification_scores(matrix).items():
                metrics[name + metric] = value
            if self.confusion and key == self.main:
                metrics['confusion_matrix'] = matrix.tolist()
                self._draw(matrix, classes)
        return metrics

    @staticmethod
    def _draw(matrix: np.ndarray, classes: Optional[Sequence[str]]) -> None:
        visualizer = Visualizer.get_current_instance()
        if visualizer is None:
            return
        from mmemo.visualization import draw_confusion_matrix
        # the step of the validation scalars, set by AVVisualizationHook
        # (the hub's `epoch` is the index of the epoch just trained, one
        # less than the epoch the scalars are logged at)
        hub = MessageHub.get_current_instance()
        step = hub.get_info('vis_step', hub.get_info('epoch', 0))
        visualizer.add_image('confusion_matrix',
                             draw_confusion_matrix(matrix, classes), step)
