# Copyright (c) mmemo contributors. All rights reserved.
"""Per-segment text features from transcripts (MAVEN's text stream).

:func:`extract_text_features` reads one transcript per video (see
:mod:`mmemo.datasets.transcripts`), encodes every segment's text into one
vector (e.g. :class:`~mmemo.models.HFTextEncoder` on a local
``roberta-base``) and writes per video the sequence-feature layout that
``LoadSequenceFeatures`` reads::

    <out_dir>/<video_id>.npz   features  float32 [S, D]  one row a segment
                               intervals float64 [S, 2]  (start, end) in s
    <out_dir>/cache.json       the settings and D, S per video

As in :mod:`mmemo.apis.feature_cache`, the extraction is resumable: a video
is written to a temporary file and renamed when complete, and videos whose
``.npz`` exists are skipped; a folder made with other settings is refused.
A video's segments are encoded together (``batch_size`` at a time), never
with other videos' segments, so its features do not depend on its
neighbours (this matters for ``pooling='code'``, which averages padding).
"""
import glob
import json
import os
import os.path as osp
from typing import Callable, Dict, Optional

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmemo.datasets.transcripts import (EmptyTranscriptError, TranscriptError,
                                        TranscriptSegment, load_transcript)
from mmemo.datasets.transforms.load_sequence_features import \
    sequence_features_path
from .feature_cache import _load_meta, _save_meta


def save_sequence_features(path: str, features: np.ndarray,
                           intervals: np.ndarray) -> None:
    """Write one video's ``features`` [S, D] and ``intervals`` [S, 2].

    The file appears complete or not at all (temporary file + rename).

    Args:
        path (str): The ``.npz`` file.
        features (np.ndarray): ``[S, D]``, stored as float32.
        intervals (np.ndarray): ``[S, 2]`` (start, end) seconds, stored as
            float64.
    """
    features = np.asarray(features, np.float32)
    intervals = np.asarray(intervals, np.float64).reshape(-1, 2)
    assert features.ndim == 2 and len(features) == len(intervals), \
        f'features {features.shape} do not match intervals {intervals.shape}'
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        np.savez(f, features=features, intervals=intervals)
    os.replace(tmp, path)


def duration_lookup(
        durations_file: Optional[str] = None,
        video_dir: Optional[str] = None) -> Optional[Callable[[str], float]]:
    """How to find a video's duration (for empty MAVEN transcripts).

    Args:
        durations_file (str, optional): A JSON object ``{video_id:
            seconds}``, or a text file with ``video_id seconds`` (or
            ``video_id,seconds``) lines.
        video_dir (str, optional): Folder with the videos
            (``<video_id>.<ext>``), probed with PyAV when the file does not
            list the video.

    Returns:
        callable, optional: ``video_id -> seconds`` (raises KeyError for an
        unknown video), or None when neither source is given.
    """
    if durations_file is None and video_dir is None:
        return None
    table: Dict[str, float] = {}
    if durations_file is not None:
        with open(durations_file) as f:
            if durations_file.endswith('.json'):
                table = {k: float(v) for k, v in json.load(f).items()}
            else:
                for number, line in enumerate(f, 1):
                    fields = line.replace(',', ' ').split()
                    if not fields:
                        continue
                    if len(fields) != 2:
                        raise ValueError(f'{durations_file}:{number}: expected'
                                         f' "video_id seconds", got {line!r}')
                    table[fields[0]] = float(fields[1])

    def duration_of(video_id: str) -> float:
        if video_id in table:
            return table[video_id]
        if video_dir is not None:
            from mmemo.datasets.media import probe_video
            paths = sorted(
                glob.glob(osp.join(glob.escape(video_dir), video_id + '.*')))
            if paths:
                return probe_video(paths[0]).duration
        raise KeyError(f'no duration for video {video_id!r} (not in '
                       f'{durations_file}, no {video_id}.* in {video_dir})')

    return duration_of


def _settings(encoder: torch.nn.Module, fmt: str, batch_size: int) -> Dict:
    settings = dict(
        encoder=type(encoder).__name__,
        model_dir=osp.realpath(encoder.model_dir) if hasattr(
            encoder, 'model_dir') else None,
        format=fmt)
    for key in ('pooling', 'max_length', 'padding'):
        settings[key] = getattr(encoder, key, None)
    if settings['pooling'] == 'code' and settings['padding'] == 'longest':
        settings['batch_size'] = batch_size  # the padding depends on it
    return settings


def extract_text_features(encoder: torch.nn.Module,
                          transcript_dir: str,
                          out_dir: str,
                          fmt: str = 'maven',
                          suffix: str = '.txt',
                          duration_of: Optional[Callable[[str], float]] = None,
                          batch_size: int = 32,
                          progress: bool = True) -> Dict[str, int]:
    """Encode every transcript of a folder into per-segment features.

    Args:
        encoder (nn.Module): Maps a list of ``N`` texts to ``[N, D]``
            features, e.g. :class:`~mmemo.models.HFTextEncoder`; its
            ``model_dir``/``pooling``/``max_length``/``padding`` attributes,
            when present, are recorded in ``cache.json``.
        transcript_dir (str): One transcript per video,
            ``<video_id><suffix>``.
        out_dir (str): Where the ``.npz`` files go.
        fmt (str): Transcript format, ``'maven'`` or ``'mosei'``.
            Defaults to ``'maven'``.
        suffix (str): Transcript file suffix. Defaults to ``'.txt'``.
        duration_of (callable, optional): ``video_id -> seconds``, for
            empty transcripts (see :func:`duration_lookup`).
        batch_size (int): Segments per forward pass. Defaults to 32.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``videos`` written, ``skipped`` (already there),
        ``segments`` written, ``empty`` (transcripts without speech among
        those written) and ``dim`` (D; 0 when nothing was written or read).
    """
    assert batch_size > 0, batch_size
    names = sorted(
        f for f in os.listdir(transcript_dir)
        if f.endswith(suffix) and osp.isfile(osp.join(transcript_dir, f)))
    if not names:
        raise FileNotFoundError(
            f'{transcript_dir}: no transcript (*{suffix}) found')
    video_ids = [name[:-len(suffix)] for name in names]
    os.makedirs(out_dir, exist_ok=True)
    meta = _load_meta(out_dir)
    settings = _settings(encoder, fmt, batch_size)
    known = meta.get('text_features')
    known_settings = None if known is None else {
        k: v
        for k, v in known.items() if k != 'dim'
    }
    if known_settings is not None and known_settings != settings:
        raise ValueError(
            f'{out_dir} holds text features made with {known}, this run '
            f'uses {settings}; use another output folder')
    done = [
        vid for vid in video_ids
        if osp.exists(sequence_features_path(out_dir, vid))
    ]
    finished = set(done)
    pending = [vid for vid in video_ids if vid not in finished]
    dim = int(known['dim']) if known and 'dim' in known else 0
    for vid in done:  # finished before meta was saved (interrupted run)
        if vid not in meta['videos']:
            with np.load(sequence_features_path(out_dir, vid)) as data:
                meta['videos'][vid] = int(data['features'].shape[0])
    stats = dict(videos=0, skipped=len(done), segments=0, empty=0, dim=dim)
    bar = ProgressBar(len(pending)) if progress and pending else None
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        for vid in pending:
            path = osp.join(transcript_dir, vid + suffix)
            try:
                segments = load_transcript(path, fmt)
            except EmptyTranscriptError:
                if duration_of is None:
                    raise
                try:
                    duration = float(duration_of(vid))
                except KeyError as e:
                    raise TranscriptError(
                        path, None, f'empty transcript, and {e.args[0]}')
                segments = [TranscriptSegment(0.0, duration, '')]
                stats['empty'] += 1
            texts = [s.text for s in segments]
            features = torch.cat([
                encoder(texts[i:i + batch_size]).float().cpu()
                for i in range(0, len(texts), batch_size)
            ]).numpy()  # [S, D]
            if dim and features.shape[1] != dim:
                raise ValueError(f'{out_dir} holds {dim}-d features, the '
                                 f'encoder gives {features.shape[1]}-d')
            dim = stats['dim'] = int(features.shape[1])
            save_sequence_features(
                sequence_features_path(out_dir, vid), features,
                [(s.start, s.end) for s in segments])
            meta['text_features'] = dict(settings, dim=dim)
            meta['videos'][vid] = len(segments)
            _save_meta(out_dir, meta)
            stats['videos'] += 1
            stats['segments'] += len(segments)
            if bar is not None:
                bar.update()
    encoder.train(was_training)
    if 'text_features' in meta:
        _save_meta(out_dir, meta)  # with the videos found done
    return stats
