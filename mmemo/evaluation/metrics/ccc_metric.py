# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmemo.evaluation.functional import concordance_cc
from mmemo.registry import METRICS
from mmemo.utils.affwild2_va_txt import va_annotation_text


def _to_numpy(value) -> np.ndarray:
    """A tensor, array or list as a numpy array (on the CPU, no grad)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point() and value.dtype != torch.float64:
            # half/bfloat16 outputs have no numpy dtype; float32 is exact
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def pearson_cc(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column; 0 where a column is constant
    (or there is no row).

    The ``n`` or ``n - 1`` normalisations cancel, so the value does not
    depend on the ddof.

    Args:
        pred (np.ndarray): ``[N, D]`` predictions.
        target (np.ndarray): ``[N, D]`` targets.

    Returns:
        np.ndarray: ``[D]`` correlations.
    """
    if not len(pred):
        return np.zeros(pred.shape[1])
    dp = pred - pred.mean(0)  # [N, D]
    dt = target - target.mean(0)  # [N, D]
    denom = np.sqrt((dp**2).sum(0) * (dt**2).sum(0))  # [D]
    return np.divide(
        (dp * dt).sum(0), denom, out=np.zeros_like(denom), where=denom > 0)


@METRICS.register_module()
class CCCMetric(BaseMetric):
    """Valence/arousal regression metrics: CCC, PCC, MAE, RMSE.

    The ABAW/AVEC rule (``datasets.md`` §4 and §7): each dimension's CCC
    is computed once over the valid frames of the whole evaluation set
    concatenated, not averaged over videos. A sample brings ``pred_va``
    and ``gt_va`` ``[L, D]``, ``va_mask`` ``[L]`` (False = unannotated or
    padding) and, in its metainfo, ``video_id``, ``target_frames`` ``[L]``
    (0-based frame of each prediction, -1 = padding) and ``num_frames``
    (frames of the video's annotation file). Every annotated frame must be
    predicted at most once: a (video, frame) predicted twice raises a
    ``ValueError``.

    The keys are ``ccc_<dim>``, ``pcc_<dim>``, ``mae_<dim>``,
    ``rmse_<dim>`` for each dimension, their ``*_mean`` over the
    dimensions (``ccc_mean`` is the ABAW score P_VA) and ``num_frames``
    (the frames evaluated); with ``per_video`` also ``ccc_<dim>_per_video``
    and ``ccc_mean_per_video``. Works in distributed evaluation: one
    picklable entry is stored per sample, so MMEngine's gathering drops
    the samples that the sampler repeated to pad the ranks.

    Args:
        ddof (int): Delta degrees of freedom of the CCC's moments: 0 for
            population moments, as m3f's Aff-Wild2 evaluation and ABAW;
            1 for unbiased ones in all three terms, as HiCMAE
            (``np.cov``). The PCC does not depend on it. Defaults to 0.
        dims (sequence of str): Names of the prediction columns, used in
            the keys and as the header of the prediction files.
            Defaults to ``('valence', 'arousal')``.
        per_video (bool): Also report the mean of per-video CCCs, a
            diagnostic (not the challenge number). Defaults to False.
        prediction_dir (str, optional): Write ``<video_id>.txt`` per video
            there in the Aff-Wild2 format
            (:mod:`mmemo.utils.affwild2_va_txt`): a header, then one
            ``v,a`` line per frame of the annotation file, ``-5,-5`` where
            nothing was predicted. Defaults to None (no files).
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'va'``.
        collect_dir (str, optional): Shared directory where the ranks'
            results are gathered with ``collect_device='cpu'``. Defaults
            to None (a temporary one).
    """

    default_prefix: Optional[str] = 'va'

    def __init__(self,
                 ddof: int = 0,
                 dims: Sequence[str] = ('valence', 'arousal'),
                 per_video: bool = False,
                 prediction_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        assert ddof in (0, 1), f'ddof must be 0 or 1, not {ddof}'
        self.ddof = ddof
        self.dims = tuple(dims)
        self.per_video = per_video
        self.prediction_dir = prediction_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep the valid frames of each sample: frame index, prediction and
        target.

        One entry per sample, even one without a valid frame: the gathering
        of distributed results truncates the list to the dataset size.

        Args:
            data_batch: Unused.
            data_samples (sequence of dict): Outputs of the model.
        """
        for sample in data_samples:
            pred = _to_numpy(sample['pred_va'])  # [L, D]
            gt = _to_numpy(sample['gt_va'])  # [L, D]
            frames = _to_numpy(sample['target_frames']).astype(np.int64)
            valid = _to_numpy(sample['va_mask']).astype(bool).reshape(-1)
            valid &= frames >= 0  # padding positions, whatever the mask
            assert pred.shape == gt.shape and \
                pred.shape == (len(frames), len(self.dims)), (
                    f'pred_va {pred.shape}, gt_va {gt.shape} and '
                    f'target_frames ({len(frames)}) do not match '
                    f'{len(self.dims)} dims')
            num_frames = sample.get('num_frames')
            self.results.append(
                dict(
                    video_id=str(sample['video_id']),
                    num_frames=None if num_frames is None else int(num_frames),
                    frames=frames[valid],  # [N]
                    pred=pred[valid],  # [N, D]
                    gt=gt[valid]))  # [N, D]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score the concatenation of all valid frames.

        Args:
            results (list[dict]): From all ranks.

        Returns:
            dict: Metric name -> value.
        """
        videos = self._merge_videos(results)
        # a fixed order (video, frame), so the sums, and so the numbers,
        # do not depend on how the samples were split over the ranks
        names = sorted(videos)
        # the empty [0, D] keeps the shape when there is no video
        empty = [np.zeros((0, len(self.dims)))]
        pred = np.concatenate([videos[v]['pred'] for v in names] +
                              empty).astype(np.float64)  # [N, D]
        gt = np.concatenate([videos[v]['gt'] for v in names] + empty).astype(
            np.float64)  # [N, D]
        if not len(pred):
            print_log(
                'CCCMetric: no valid frame to evaluate',
                logger='current',
                level=logging.WARNING)

        ccc = concordance_cc(
            torch.from_numpy(pred), torch.from_numpy(gt),
            ddof=self.ddof).numpy()  # [D]
        pcc = pearson_cc(pred, gt)  # [D]
        err = pred - gt  # [N, D]
        # no frame: MAE/RMSE are undefined (NaN), not a perfect 0
        mae = np.abs(err).mean(0) if len(err) else np.full(
            len(self.dims), np.nan)
        rmse = np.sqrt(
            (err**2).mean(0)) if len(err) else np.full(len(self.dims), np.nan)

        metrics: Dict[str, float] = {}
        for name, values in (('ccc', ccc), ('pcc', pcc), ('mae', mae), ('rmse',
                                                                        rmse)):
            for dim, value in zip(self.dims, values):
                metrics[f'{name}_{dim}'] = float(value)
            metrics[f'{name}_mean'] = float(np.mean(values))
        # a float: MMEngine's test log writes an int metric as null
        metrics['num_frames'] = float(len(pred))

        if self.per_video:
            # the videos with a valid frame
            per_video = np.array([
                concordance_cc(
                    torch.from_numpy(videos[v]['pred'].astype(np.float64)),
                    torch.from_numpy(videos[v]['gt'].astype(np.float64)),
                    ddof=self.ddof).numpy() for v in names
                if len(videos[v]['pred'])
            ]).reshape(-1, len(self.dims))  # [V, D]
            means = per_video.mean(0) if len(per_video) else np.zeros(
                len(self.dims))
            for dim, value in zip(self.dims, means):
                metrics[f'ccc_{dim}_per_video'] = float(value)
            metrics['ccc_mean_per_video'] = float(np.mean(means))

        if self.prediction_dir is not None:
            self._write_predictions(videos)
        return metrics

    @staticmethod
    def _merge_videos(results: List[dict]) -> Dict[str, dict]:
        """Group the samples' frames by video, sorted by frame.

        Raises:
            ValueError: A frame predicted twice, or inconsistent
                ``num_frames``, or a frame beyond them.
        """
        parts = defaultdict(list)
        for result in results:
            parts[result['video_id']].append(result)
        videos = {}
        for video_id, samples in parts.items():
            frames = np.concatenate([s['frames'] for s in samples])  # [N]
            order = np.argsort(frames, kind='stable')
            frames = frames[order]
            repeated = frames[1:][frames[1:] == frames[:-1]]
            if len(repeated):
                raise ValueError(
                    f'frame {int(repeated[0])} of video {video_id!r} was '
                    'predicted twice; an evaluation set must cover each '
                    'annotated frame once (non-overlapping windows)')
            counts = {s['num_frames'] for s in samples} - {None}
            if len(counts) > 1:
                raise ValueError(f'video {video_id!r} has samples with '
                                 f'different num_frames {sorted(counts)}')
            num_frames = counts.pop() if counts else None
            if num_frames is not None and len(frames) and \
                    frames[-1] >= num_frames:
                raise ValueError(
                    f'frame {int(frames[-1])} of video {video_id!r} is '
                    f'beyond its {num_frames} annotated frames')
            videos[video_id] = dict(
                num_frames=num_frames,
                frames=frames,
                pred=np.concatenate([s['pred'] for s in samples])[order],
                gt=np.concatenate([s['gt'] for s in samples])[order])
        return videos

    def _write_predictions(self, videos: Dict[str, dict]) -> None:
        """``<prediction_dir>/<video_id>.txt`` in the Aff-Wild2 format."""
        os.makedirs(self.prediction_dir, exist_ok=True)
        written = 0
        total = 0
        for video_id, video in sorted(videos.items()):
            num_frames = video['num_frames']
            if num_frames is None:
                raise ValueError(
                    f'video {video_id!r} has no num_frames: cannot write '
                    'its prediction file')
            values = np.zeros((num_frames, len(self.dims)))  # [T, D]
            predicted = np.zeros(num_frames, bool)  # [T]
            values[video['frames']] = video['pred']
            predicted[video['frames']] = True
            with open(osp.join(self.prediction_dir, f'{video_id}.txt'),
                      'w') as f:
                f.write(va_annotation_text(values, predicted, self.dims))
            written += len(video['frames'])
            total += num_frames
        print_log(
            f'CCCMetric: wrote {len(videos)} prediction files to '
            f'{self.prediction_dir}: {written} predicted frames of {total} '
            '(the others are -5)',
            logger='current')
