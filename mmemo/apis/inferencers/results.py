# Copyright (c) mmemo contributors. All rights reserved.
"""The plain result dicts of :class:`AVInferencer` (strict JSON).

From a model's data samples: class probabilities (per modality too) with
the window and the frames and faces the prediction saw, or per-frame
valence and arousal over the dense windows.
"""
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def to_list(x) -> List[float]:
    """Floats of an array, flattened (JSON has no float32)."""
    return [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]


def ordered(result: dict) -> dict:
    """The keys a reader looks for first, first."""
    first = ('file', 'audio_file', 'task', 'modalities', 'window', 'label',
             'label_index', 'classes', 'scores')
    out = {k: result[k] for k in first if k in result}
    out.update({k: v for k, v in result.items() if k not in out})
    return out


def probabilities(model: nn.Module, score: torch.Tensor) -> List[float]:
    """A class score as probabilities: already averaged probabilities
    (``average_clips='prob'``) are renormalised, logits softmaxed."""
    score = score.detach().float().cpu().reshape(-1)
    head = getattr(model, 'cls_head', None)
    if getattr(head, 'average_clips', None) == 'prob':
        return to_list(score / score.sum().clamp_min(1e-12))
    return to_list(F.softmax(score, dim=0))


def classification_result(model: nn.Module, sample, modalities: Sequence[str],
                          has_video: bool) -> dict:
    """The classification result of one data sample.

    Args:
        model (nn.Module): The model (``dataset_meta``, ``cls_head``).
        sample (ActionDataSample): Its prediction and metainfo.
        modalities (sequence of str): The streams the input had.
        has_video (bool): Whether the input had a video (frame times and
            face boxes are reported only then).

    Returns:
        dict: ``task``, ``classes``, ``scores``, ``label``,
        ``label_index``, ``score_source``, ``modality_scores`` (models that
        score each modality), ``window``, ``frame_times``, ``face_boxes``,
        ``face_detected``.
    """
    pred = sample.get('pred_score')
    if pred is None:
        raise ValueError(f'{type(model).__name__} returned no pred_score: '
                         'inference supports classification and '
                         'valence/arousal models')
    modality_scores = None
    if isinstance(pred, dict):
        modality_scores = {k: probabilities(model, v) for k, v in pred.items()}
        # a modality alone: the model's own score of that modality (the
        # other zeroed as in training), else the fusion of zeroed input
        key = modalities[0] if len(modalities) == 1 and \
            modalities[0] in pred else 'fusion'
        probs = modality_scores.get(key) or modality_scores[next(iter(pred))]
    else:
        key, probs = 'fusion', probabilities(model, pred)
    classes = list(
        model.dataset_meta.get('classes')
        or [f'class_{i}' for i in range(len(probs))])
    if len(classes) != len(probs):
        raise ValueError(f'the model scores {len(probs)} classes but its '
                         f'dataset_meta names {len(classes)}')
    best = int(np.argmax(probs))
    out = dict(
        task='classification',
        classes=classes,
        scores=probs,
        label=classes[best],
        label_index=best,
        score_source=key)
    if modality_scores is not None:
        out['modality_scores'] = modality_scores
    meta = sample.metainfo
    window = meta.get('av_window') or meta.get('video_window')
    if window is None and meta.get('total_frames'):
        window = (0.0, meta['total_frames'] / meta['avg_fps'])
    out['window'] = None if window is None else \
        [float(window[0]), float(window[1])]
    if 'frame_inds' in meta and has_video:
        out['frame_times'] = to_list(
            np.asarray(meta['frame_inds']).reshape(-1) /
            float(meta['avg_fps']))
        if 'face_boxes' in meta:
            boxes = np.asarray(meta['face_boxes'], np.float64)
            out['face_boxes'] = boxes.reshape(-1, 4).tolist()
            if 'face_detected' in meta:
                out['face_detected'] = [
                    bool(v) for v in np.asarray(meta['face_detected'])
                ]
    return out


def valence_arousal_result(model: nn.Module, samples: list,
                           frames: Tuple[int, int], fps: float) -> dict:
    """Per-frame valence and arousal from the dense windows' samples.

    Args:
        model (nn.Module): The model (for the error message).
        samples (list): The windows' data samples (``pred_va`` ``[L, 2]``,
            ``target_frames`` ``[L]``, -1 = padding).
        frames (tuple[int, int]): The frames ``[first, end)`` predicted.
        fps (float): The media's frame rate.

    Returns:
        dict: ``task``, ``window``, ``times``, ``valence``, ``arousal``,
        ``fps``.
    """
    f0, f1 = frames
    values = np.full((f1 - f0, 2), np.nan, np.float32)
    for sample in samples:
        targets = np.asarray(sample.metainfo['target_frames'])
        pred = sample.get('pred_va')
        if pred is None:
            raise ValueError(f'{type(model).__name__} returned no pred_va')
        pred = pred.detach().float().cpu().numpy().reshape(-1, 2)
        real = targets >= 0
        values[targets[real] - f0] = pred[real]
    return dict(
        task='valence_arousal',
        window=[f0 / fps, f1 / fps],
        times=to_list(np.arange(f0, f1) / fps),
        valence=to_list(values[:, 0]),
        arousal=to_list(values[:, 1]),
        fps=fps)
