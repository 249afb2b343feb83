# Copyright (c) mmemo contributors. All rights reserved.
"""Verify a released dataset once and write annotation and fold files.

Used by ``tools/data/<dataset>/prepare_<dataset>.py``: the dataset class
scans the release, then every sample is opened, probed and its audio decoded
(in parallel, with a progress bar), and the usable samples are written as
the CSV that :class:`AVEmotionDataset` reads, one pair of CSVs per fold, and
a JSON report of what was found and what is wrong.
"""
import csv
import os
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from ..utils import strict_json
from .av_emotion_dataset import AVEmotionDataset
from .decoding import check_av_lengths, decode_audio_track
from .errors import BadSampleError
from .media import check_file, probe_video


def verify_sample(info: dict, max_length_mismatch: float = 1.0) -> dict:
    """Open a sample's media the way the loading transforms will.

    Args:
        info (dict): ``filename`` and optionally ``audio_path``.
        max_length_mismatch (float): As in :class:`LoadAudio`: seconds
            of audio that may be padded or trimmed to the video's length.

    Returns:
        dict: ``info`` plus ``duration``, ``fps``, ``num_frames``,
        ``audio_duration``, ``audio_padded`` and ``audio_trimmed``; or
        ``dict(error=str, path=...)`` for a bad one.
    """
    try:
        video = probe_video(info['filename'])
        audio_path = info.get('audio_path') or info['filename']
        if not info.get('audio_path') and not video.has_audio:
            raise BadSampleError(audio_path, 'has no audio track')
        check_file(audio_path)
        track = decode_audio_track(audio_path)
        offset = 0.0 if info.get('audio_path') else (video.audio_start_time -
                                                     video.start_time)
        lengths = check_av_lengths(audio_path, video.duration, offset,
                                   track.duration, max_length_mismatch)
        return dict(
            info,
            duration=round(video.duration, 3),
            fps=round(video.fps, 3),
            num_frames=video.num_frames,
            audio_duration=round(track.duration, 3),
            **lengths)
    except BadSampleError as e:
        return dict(error=e.problem, path=e.path)


def _relative(path: Optional[str], folder: str) -> str:
    return '' if not path else osp.relpath(path, folder) if folder else path


def write_annotations(path: str, samples: Sequence[dict],
                      dataset: AVEmotionDataset) -> None:
    """Write samples as the CSV :class:`AVEmotionDataset` reads.

    Paths are relative to the dataset's ``video`` / ``audio`` folders, so
    the file works with the same ``data_root``; extra columns record what
    verification measured.
    """
    video_dir = dataset.data_prefix.get('video', '')
    audio_dir = dataset.data_prefix.get('audio', video_dir)
    columns = [
        'video', 'audio', 'label', 'subject', 'duration', 'fps', 'num_frames',
        'audio_duration'
    ]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, columns, extrasaction='ignore')
        writer.writeheader()
        for sample in samples:
            writer.writerow(
                dict(
                    sample,
                    video=_relative(sample['filename'], video_dir),
                    audio=_relative(sample.get('audio_path'), audio_dir)))


def prepare_dataset(dataset: AVEmotionDataset,
                    out_dir: str,
                    nproc: int = 1,
                    expected_names: Optional[Sequence[str]] = None,
                    max_length_mismatch: float = 1.0) -> Dict:
    """Verify every sample of a dataset and write its annotation files.

    Args:
        dataset (AVEmotionDataset): Built with ``lazy_init=True`` (its
            :meth:`scan` lists the release; nothing is checked yet).
        out_dir (str): Where ``annotations.csv``, ``fold<k>_{train,test}
            .csv`` and ``report.json`` go.
        nproc (int): Worker processes for the verification.
        expected_names (sequence of str, optional): The names the release
            should hold (e.g. CREMA-D's ``SentenceFilenames.csv``); the
            missing ones are reported.
        max_length_mismatch (float): As in :class:`LoadAudio`.

    Returns:
        dict: The report also written to ``report.json``.
    """
    entries = dataset.scan()
    infos = [e for e in entries if not isinstance(e, BadSampleError)]
    problems = [
        dict(path=e.path, error=e.problem) for e in entries
        if isinstance(e, BadSampleError)
    ]
    tasks = [(info, max_length_mismatch) for info in infos]
    if nproc > 1:
        results = track_parallel_progress(
            _verify_task, tasks, nproc, chunksize=8)
    else:
        results = track_progress(_verify_task, tasks)
    good = [r for r in results if 'error' not in r]
    problems += [r for r in results if 'error' in r]

    os.makedirs(out_dir, exist_ok=True)
    write_annotations(osp.join(out_dir, 'annotations.csv'), good, dataset)
    fold_sizes = []
    for k, test_subjects in enumerate(dataset.folds, start=1):
        test = [s for s in good if s.get('subject') in set(test_subjects)]
        train = [s for s in good if s.get('subject') not in set(test_subjects)]
        write_annotations(
            osp.join(out_dir, f'fold{k}_test.csv'), test, dataset)
        write_annotations(
            osp.join(out_dir, f'fold{k}_train.csv'), train, dataset)
        fold_sizes.append(dict(fold=k, train=len(train), test=len(test)))

    classes = dataset.classes
    durations = np.array([s['duration'] for s in good] or [0.])
    names = {osp.splitext(osp.basename(s['filename']))[0] for s in infos}
    report = dict(
        dataset=type(dataset).__name__,
        root=dataset.data_root,
        num_scanned=len(entries),
        num_usable=len(good),
        num_problems=len(problems),
        problems=problems,
        missing=sorted(set(expected_names or ()) - names),
        class_counts={
            classes[k] if k < len(classes) else str(k): v
            for k, v in sorted(Counter(s['label'] for s in good).items())
        },
        subjects=sorted(Counter(s.get('subject') for s in good).items()),
        folds=[list(f) for f in dataset.folds],
        fold_sizes=fold_sizes,
        duration=dict(
            min=float(durations.min()),
            median=float(np.median(durations)),
            max=float(durations.max())),
        fps=sorted(Counter(s['fps'] for s in good).items()))
    with open(osp.join(out_dir, 'report.json'), 'w') as f:
        strict_json.dump(report, f, indent=2, default=str)
    return report


def _verify_task(task: tuple) -> dict:
    info, max_length_mismatch = task
    return verify_sample(info, max_length_mismatch)


def summary(report: Dict) -> List[str]:
    """Human-readable lines of a :func:`prepare_dataset` report."""
    lines = [
        f'{report["dataset"]} at {report["root"]}: {report["num_usable"]} '
        f'usable of {report["num_scanned"]} scanned, '
        f'{report["num_problems"]} with problems, '
        f'{len(report["missing"])} missing from the official list',
        f'classes: {report["class_counts"]}',
        'folds (train/test): ' +
        ', '.join(f'{f["fold"]}: {f["train"]}/{f["test"]}'
                  for f in report['fold_sizes']),
        f'duration (s): {report["duration"]}, fps: {report["fps"]}',
    ]
    for problem in report['problems'][:20]:
        lines.append(f'  problem: {problem["path"]}: {problem["error"]}')
    if len(report['problems']) > 20:
        lines.append(f'  ... {len(report["problems"]) - 20} more in '
                     'report.json')
    for name in report['missing'][:10]:
        lines.append(f'  missing: {name}')
    return lines
