# Copyright (c) mmemo contributors. All rights reserved.
"""A small CMU-MOSEI in its released layouts, for the tests.

Nothing of MOSEI itself can be obtained here (datasets.md §3), so the
values are generated; the *layouts* are the real ones:

- MMSA's ``aligned_50.pkl`` / ``unaligned_50.pkl``: ``{'train'|'valid'|
  'test': {...}}`` with every key of the real files — ``raw_text``,
  ``audio`` ``[N, 50|500, 74]``, ``vision`` ``[N, 50|375, 35]``, ``id``
  (``video$_$clip``), ``text`` ``[N, 50, 768]`` (BERT features),
  ``text_bert`` ``[N, 3, 50]`` (ids, attention mask, segment ids),
  ``audio_lengths``, ``vision_lengths``, ``annotations``,
  ``classification_labels``, ``regression_labels`` — padded at the end
  with zeros, COVAREP's ``-inf`` included. The dtypes follow what MMSA's
  loader reads (float arrays, str ids, int lengths); the real files'
  exact dtypes could not be checked here, and the dataset casts anyway;
- MulT's ``mosei_senti_data.pkl``: ``vision``/``audio``/``text`` ``[N,
  50, 35|74|300]``, ``labels`` ``[N, 1, 1]``, ``id`` ``[N, 3]`` (video id,
  segment start, end);
- CMU-MultimodalSDK computational sequences (HDF5, written as the SDK's
  ``write_CSD`` does: ``<root>/data/<key>/{features,intervals}`` and
  ``<root>/metadata/<name>`` JSON strings): ``CMU_MOSEI_Labels.csd``,
  ``CMU_MOSEI_COVAREP.csd`` (74-d, 100 Hz) and
  ``CMU_MOSEI_VisualFacet42.csd`` (35-d, 30 Hz), per video (unaligned) and
  aligned to the labels (``<video>[<segment>]`` keys, word-level rows);
- ``Raw/Videos/Segmented/Combined/<video>_<segment>.mp4`` made of the real
  GRID clips (H.264 + AAC).

Video IDs come from the official folds, so the folds select them. Every
feature row carries its identity in column 0 (the sample or frame index)
so the tests can check which rows a segment got.
"""
import json
import os
import os.path as osp
import pickle
from typing import Dict, List

import h5py
import numpy as np
from helpers import REPO, grid_clip, transcode

FOLDS_JSON = osp.join(REPO, 'mmemo', 'datasets', 'resources', 'cmu_mosei',
                      'standard_folds.json')
#: Videos of each official fold (first ids of each list, picked to include
#: a leading '-', a leading '_' and a numeric id).
VIDEOS = dict(
    train=['hh04W3xXa5s', '81406', '-iRBcNs9oI8', '_iRAn6feOmw'],
    valid=['188343', 'VAXhC2U9-2A'],
    test=['7l3BNtSE0xc', 'dZFV0lyedX4'])
#: A video in no official fold (the pickle's test split has it).
NO_FOLD_VIDEO = 'zzNotInFolds'
#: A valid-fold segment the pickle puts into its train split.
MOVED = ('188343', 1)
SEGMENTS_PER_VIDEO = 2
COVAREP_HZ = 100
FACET_HZ = 30


def official_folds() -> Dict[str, List[str]]:
    with open(FOLDS_JSON) as f:
        lists = json.load(f)
    return {s: lists[f'standard_{s}_fold'] for s in ('train', 'valid', 'test')}


def mosei_segments(seed: int = 0) -> List[dict]:
    """Two segments per video: ``video_id``, ``segment`` (0, 1), ``split``
    (the official fold), ``interval`` (start, end) s and ``label`` float32
    ``[7]`` (sentiment in thirds of [-3, 3] with some zeros, emotion
    intensities in thirds of [0, 3], mostly 0)."""
    rng = np.random.default_rng(seed)
    segments = []
    for split, videos in VIDEOS.items():
        for video in videos:
            for k in range(SEGMENTS_PER_VIDEO):
                start = 1.005 + 4 * k + 0.25 * len(segments) % 1
                sentiment = 0. if len(segments) % 5 == 0 else \
                    rng.integers(-9, 10) / 3
                emotions = rng.choice([0, 0, 0, 1 / 3, 2 / 3, 1, 2, 3], 6)
                segments.append(
                    dict(
                        video_id=video,
                        segment=k,
                        split=split,
                        interval=(start, start + 2.5),
                        label=np.array([sentiment, *emotions], np.float32)))
    return segments


# ------------------------------------------------------------------ pickles
def _sequence(rng, length: int, dims: int, real: int,
              code: float) -> np.ndarray:
    """``[length, dims]``: ``real`` frames (column 0 = ``code``), then
    zeros."""
    x = np.zeros((length, dims), np.float32)
    x[:real] = rng.normal(size=(real, dims))
    x[:real, 0] = code
    return x


def write_mmsa_pickle(path: str, aligned: bool = True, seed: int = 0) -> dict:
    """An MMSA ``aligned_50.pkl`` (or ``unaligned_50.pkl``).

    The pickle's splits follow the official folds except :data:`MOVED`
    (a valid video's segment in ``train``) and one segment of
    :data:`NO_FOLD_VIDEO` in ``test``. Column 0 of every real frame of
    sample ``i`` (in its split) is ``i + 1``.

    Returns:
        dict: The pickled data.
    """
    rng = np.random.default_rng(seed)
    lens = dict(
        text=50, audio=50, vision=50) if aligned else dict(
            text=50, audio=500, vision=375)
    parts = {s: [] for s in ('train', 'valid', 'test')}
    for seg in mosei_segments(seed):
        moved = (seg['video_id'], seg['segment']) == MOVED
        parts['train' if moved else seg['split']].append(seg)
    parts['test'].append(
        dict(
            video_id=NO_FOLD_VIDEO,
            segment=0,
            label=np.array([0.5, 0, 0, 0, 0, 0, 0], np.float32)))
    data = {}
    for split, segments in parts.items():
        n = len(segments)
        words = rng.integers(5, 40, n)
        text_bert = np.zeros((n, 3, 50), np.float32)
        audio_lengths = words if aligned else rng.integers(60, 500, n)
        vision_lengths = words if aligned else rng.integers(40, 375, n)
        audio = np.stack([
            _sequence(rng, lens['audio'], 74, audio_lengths[i], i + 1)
            for i in range(n)
        ])
        audio[:, :, 5][audio[:, :, 5] > 1.5] = -np.inf  # COVAREP's -inf
        for i, w in enumerate(words):
            text_bert[i, 0, :w + 2] = rng.integers(1000, 30000, w + 2)
            text_bert[i, 0, 0], text_bert[i, 0, w + 1] = 101, 102
            text_bert[i, 1, :w + 2] = 1
        sentiment = np.array([s['label'][0] for s in segments], np.float32)
        data[split] = {
            'raw_text':
            np.array([f'segment {i} words' for i in range(n)], dtype=object),
            'audio':
            audio,
            'vision':
            np.stack([
                _sequence(rng, lens['vision'], 35, vision_lengths[i], i + 1)
                for i in range(n)
            ]),
            'id':
            np.array([f'{s["video_id"]}$_${s["segment"]}' for s in segments],
                     dtype=object),
            'text':
            np.stack([
                _sequence(rng, lens['text'], 768, w + 2, i + 1)
                for i, w in enumerate(words)
            ]),
            'text_bert':
            text_bert,
            'audio_lengths': [int(v) for v in audio_lengths],
            'vision_lengths': [int(v) for v in vision_lengths],
            'annotations':
            np.array([
                'Positive' if v > 0 else 'Negative' if v < 0 else 'Neutral'
                for v in sentiment
            ],
                     dtype=object),
            'classification_labels':
            np.sign(sentiment).astype(np.float32) + 1,
            'regression_labels':
            sentiment,
        }
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=4)
    return data


def write_mult_pickle(path: str, seed: int = 1) -> dict:
    """MulT's ``mosei_senti_data.pkl`` (aligned, 50 words; protocol 2)."""
    rng = np.random.default_rng(seed)
    data = {}
    for split in ('train', 'valid', 'test'):
        segments = [s for s in mosei_segments(seed) if s['split'] == split]
        n = len(segments)
        audio = rng.normal(size=(n, 50, 74))
        audio[:, :3, 1] = -np.inf
        data[split] = dict(
            vision=rng.normal(size=(n, 50, 35)),
            audio=audio,
            text=rng.normal(size=(n, 50, 300)).astype(np.float32),
            labels=np.array([s['label'][0] for s in segments],
                            np.float32).reshape(n, 1, 1),
            id=np.array([[s['video_id'], s['interval'][0], s['interval'][1]]
                         for s in segments]))
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=2)
    return data


# -------------------------------------------------------------------- .csd
def write_csd(path: str, root: str, data: Dict[str, tuple],
              metadata: dict) -> str:
    """A computational sequence as the SDK's ``write_CSD`` writes it:
    ``<root>/data/<key>/{features,intervals}`` and one JSON string per
    ``<root>/metadata/<name>``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with h5py.File(path, 'w') as f:
        group = f.create_group(root).create_group('data')
        for key, (features, intervals) in data.items():
            video = group.create_group(key)
            video.create_dataset('features', data=features)
            video.create_dataset('intervals', data=intervals)
        meta = f[root].create_group('metadata')
        for name, value in metadata.items():
            entry = meta.create_dataset(
                name, (1, ), dtype=h5py.special_dtype(vlen=str))
            entry[0] = json.dumps(value)
    return path


def _metadata(root: str, dims: List[str]) -> dict:
    return {
        'root name': root,
        'computational sequence description': f'{root} (test fixture)',
        'dimension names': dims,
        'dataset name': 'CMU-MOSEI',
        'alignment compatible': True,
    }


def _frames(rate: int, duration: float, dims: int, rng) -> tuple:
    """``[n, dims]`` frames at ``rate`` Hz (column 0 = the frame index)
    and their ``[n, 2]`` intervals."""
    num = int(round(duration * rate))
    features = rng.normal(size=(num, dims)).astype(np.float32)
    features[:, 0] = np.arange(num)
    start = np.arange(num) / rate
    return features, np.stack([start, start + 1 / rate], 1)


def write_mosei_csd(root: str, seed: int = 0) -> dict:
    """``CMU_MOSEI_Labels.csd``, ``CMU_MOSEI_COVAREP.csd`` and
    ``CMU_MOSEI_VisualFacet42.csd`` in ``root/unaligned`` (per video: all
    frames of the video and its labels with their intervals) and in
    ``root/aligned`` (keys ``<video>[<segment>]``: the segment's label and
    10-16 word-level rows, column 0 = ``100 * (segment + 1) + row``).

    Returns:
        dict: ``segments`` (:func:`mosei_segments`), ``unaligned`` and
        ``aligned`` (name -> path), ``words`` (aligned key -> rows).
    """
    rng = np.random.default_rng(seed)
    segments = mosei_segments(seed)
    labels, covarep, facet = {}, {}, {}
    for video in dict.fromkeys(s['video_id'] for s in segments):
        mine = [s for s in segments if s['video_id'] == video]
        labels[video] = (np.stack([s['label'] for s in mine]),
                         np.array([s['interval'] for s in mine]))
        duration = mine[-1]['interval'][1] + 1
        covarep[video] = _frames(COVAREP_HZ, duration, 74, rng)
        covarep[video][0][::7, 3] = -np.inf
        facet[video] = _frames(FACET_HZ, duration, 35, rng)
    out = dict(segments=segments, unaligned={}, aligned={}, words={})
    for name, root_name, data, dims in (
        ('CMU_MOSEI_Labels.csd', 'All Labels', labels,
         ['sentiment', 'happy', 'sad', 'anger', 'surprise', 'disgust',
          'fear']),
        ('CMU_MOSEI_COVAREP.csd', 'COVAREP', covarep,
         [f'covarep_{i}' for i in range(74)]),
        ('CMU_MOSEI_VisualFacet42.csd', 'FACET 4.2', facet,
         [f'facet_{i}' for i in range(35)]),
    ):
        out['unaligned'][name] = write_csd(
            osp.join(root, 'unaligned', name), root_name, data,
            _metadata(root_name, dims))
    aligned = dict(labels={}, covarep={}, facet={})
    for s in segments:
        key = f'{s["video_id"]}[{s["segment"]}]'
        words = int(rng.integers(10, 17))
        out['words'][key] = words
        start, end = s['interval']
        bounds = np.linspace(start, end, words + 1)
        intervals = np.stack([bounds[:-1], bounds[1:]], 1)
        aligned['labels'][key] = (s['label'][None], np.array([s['interval']]))
        for name, dims in (('covarep', 74), ('facet', 35)):
            features = rng.normal(size=(words, dims)).astype(np.float32)
            features[:, 0] = 100 * (s['segment'] + 1) + np.arange(words)
            aligned[name][key] = (features, intervals)
    for name, root_name, part in (
        ('CMU_MOSEI_Labels.csd', 'All Labels', 'labels'),
        ('CMU_MOSEI_COVAREP.csd', 'COVAREP', 'covarep'),
        ('CMU_MOSEI_VisualFacet42.csd', 'FACET 4.2', 'facet'),
    ):
        out['aligned'][name] = write_csd(
            osp.join(root, 'aligned', name), root_name, aligned[part],
            _metadata(root_name, []))
    return out


# ---------------------------------------------------------------- raw media
def write_mosei_raw(root: str,
                    segments: List[dict],
                    max_seconds: float = 1.5) -> Dict[str, str]:
    """``Raw/Videos/Segmented/Combined/<video>_<segment>.mp4`` (H.264 + AAC
    44.1 kHz, the first ``max_seconds`` of a GRID clip) for ``segments``.

    Returns:
        dict: ``<video>[<segment>]`` -> path.
    """
    paths = {}
    for i, s in enumerate(segments):
        path = osp.join(root, 'Raw', 'Videos', 'Segmented', 'Combined',
                        f'{s["video_id"]}_{s["segment"]}.mp4')
        paths[f'{s["video_id"]}[{s["segment"]}]'] = transcode(
            grid_clip(i), path, sample_rate=44100, max_seconds=max_seconds)
    return paths
