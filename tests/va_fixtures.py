# Copyright (c) mmemo contributors. All rights reserved.
"""Valence/arousal release trees for the tests, built from real GRID clips.

The media are real talking-face clips (GRID corpus, CC BY 4.0, 3 s at
25 fps, 75 frames, speech; see ``tests/data/README.md``) transcoded into
the Aff-Wild2 and RECOLA layouts; the annotations are generated (smooth
curves, runs of unannotated frames), so the expected values are known.
Plain functions: build a tree with ``make_affwild2_tree(root)`` or
``make_recola_tree(root)`` and read what was written from the returned
dict.
"""
import os
import os.path as osp
from typing import Dict, List

import av
import cv2
import numpy as np
from helpers import grid_clip, transcode

GRID_FRAMES = 75
GRID_FPS = 25.0
AFFWILD2_ANN_DIR = 'annotations/VA_Estimation_Challenge'
#: video_id -> (GRID clip, video folder, video name, split, frames
#: annotated, unannotated [start, end) runs of both columns)
AFFWILD2_FILES = {
    '1-25-360x288_left':
    (0, 'videos', '1-25-360x288', 'train', 75, [(10, 15)]),
    '1-25-360x288_right':
    (0, 'videos', '1-25-360x288', 'train', 75, [(0, 3), (60, 75)]),
    # one line more than the video's 75 frames, as happens in Aff-Wild2
    '3-25-360x288': (1, 'batch2', '3-25-360x288', 'train', 76, [(40, 48)]),
    '2-25-360x288': (2, 'videos', '2-25-360x288', 'val', 75, [(20, 26)]),
}
#: Single-column gaps: (video_id, frame, column, value) -> masked frame.
AFFWILD2_PARTIAL = [('1-25-360x288_left', 31, 0, -5.0),
                    ('3-25-360x288', 5, 1, -7.5)]
#: Face images left out of ``cropped_aligned/2-25-360x288`` (0-based).
MISSING_FACES = [0, 1, 30, 31, 32, 74]
FACE_VIDEO = '2-25-360x288'
RECOLA_HEADER = 'time;FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3'


def va_curves(num: int, seed: int) -> np.ndarray:
    """Smooth valence and arousal curves in [-0.9, 0.9], ``[num, 2]``."""
    rng = np.random.default_rng(seed)
    t = np.arange(num) / GRID_FPS
    freq, phase = rng.uniform(0.2, 0.6, 2), rng.uniform(0, 2 * np.pi, 2)
    curves = 0.8 * np.sin(2 * np.pi * freq[None] * t[:, None] + phase[None])
    return np.round(curves, 4)


def write_va_txt(path: str, labels: np.ndarray) -> None:
    """An Aff-Wild2 VA file: ``valence,arousal`` then ``v,a`` per frame."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('valence,arousal\n')
        for v, a in labels:
            f.write(f'{v:g},{a:g}\n')


def write_face_images(video: str, frame_dir: str, missing: List[int]) -> int:
    """Cropped-aligned-like faces: the centre square of every frame at
    112x112, ``00001.jpg`` = frame 0, leaving out ``missing``."""
    os.makedirs(frame_dir, exist_ok=True)
    written = 0
    with av.open(video) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in missing:
                continue
            img = frame.to_ndarray(format='bgr24')
            h, w = img.shape[:2]
            side = min(h, w)
            top, left = (h - side) // 2, (w - side) // 2
            face = cv2.resize(img[top:top + side, left:left + side],
                              (112, 112))
            cv2.imwrite(osp.join(frame_dir, f'{index + 1:05d}.jpg'), face)
            written += 1
    return written


def make_affwild2_tree(root: str) -> Dict:
    """An Aff-Wild2 release (ABAW3+ layout) made from 3 GRID clips.

    - ``videos/1-25-360x288.mp4`` (two annotations, ``_left`` and
      ``_right``), ``batch2/3-25-360x288.mp4``, ``videos/2-25-360x288.mp4``:
      H.264 + AAC 44.1 kHz, 75 frames at 25 fps;
    - ``annotations/VA_Estimation_Challenge/Train_Set`` (the first three
      annotation files) and ``Validation_Set`` (``2-25-360x288``): smooth
      curves with runs of ``-5,-5``, single-column gaps (-5, -7.5) and
      ``3-25-360x288.txt`` one frame longer than its video;
    - ``cropped_aligned/2-25-360x288/00001.jpg ...`` with the images of
      ``MISSING_FACES`` left out;
    - ``frames_fps.csv`` (m3f's ``name,frames,fps``).

    Args:
        root (str): Output folder.

    Returns:
        dict: ``root``, ``ann_dir``, ``videos`` (video name -> path),
        ``annotations`` (video_id -> txt), ``splits`` (video_id ->
        ``'train'``/``'val'``), ``labels`` (video_id -> float32 ``[N, 2]``
        as written), ``valid`` (video_id -> bool ``[N]``), ``num_frames``
        and ``num_annotated`` (video_id -> int), ``frame_dir``,
        ``missing_faces``, ``frames_fps`` (path), ``fps``,
        ``video_frames``.
    """
    videos, annotations, splits, labels, valid = {}, {}, {}, {}, {}
    split_dirs = dict(train='Train_Set', val='Validation_Set')
    for seed, (video_id, (clip, folder, name, split, num,
                          gaps)) in enumerate(AFFWILD2_FILES.items()):
        if name not in videos:
            videos[name] = transcode(
                grid_clip(clip),
                osp.join(root, folder, f'{name}.mp4'),
                sample_rate=44100)
        values = va_curves(num, seed)
        for start, end in gaps:
            values[start:end] = -5
        for vid, frame, column, value in AFFWILD2_PARTIAL:
            if vid == video_id:
                values[frame, column] = value
        path = osp.join(root, AFFWILD2_ANN_DIR, split_dirs[split],
                        f'{video_id}.txt')
        write_va_txt(path, values)
        annotations[video_id] = path
        splits[video_id] = split
        labels[video_id] = values.astype(np.float32)
        valid[video_id] = np.all(values >= -1, axis=1)
    frame_dir = osp.join(root, 'cropped_aligned', FACE_VIDEO)
    write_face_images(videos[FACE_VIDEO], frame_dir, MISSING_FACES)
    frames_fps = osp.join(root, 'frames_fps.csv')
    with open(frames_fps, 'w') as f:
        for video_id in AFFWILD2_FILES:
            f.write(f'{video_id},{len(labels[video_id])},{GRID_FPS}\n')
    return dict(
        root=root,
        ann_dir=AFFWILD2_ANN_DIR,
        videos=videos,
        annotations=annotations,
        splits=splits,
        labels=labels,
        valid=valid,
        num_frames={
            k: len(v)
            for k, v in labels.items()
        },
        num_annotated={
            k: int(v.sum())
            for k, v in valid.items()
        },
        frame_dir=frame_dir,
        missing_faces=list(MISSING_FACES),
        frames_fps=frames_fps,
        fps=GRID_FPS,
        video_frames=GRID_FRAMES)


def write_recola_csv(path: str, ratings: np.ndarray) -> None:
    """A RECOLA rating file: ``;``-separated, the release's header with
    its trailing spaces, ``time`` every 40 ms."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(RECOLA_HEADER + '\n')
        for k, row in enumerate(ratings):
            f.write(';'.join([f'{k * 0.04:.2f}'] + [f'{r:.4f}'
                                                    for r in row]) + '\n')


def make_recola_tree(root: str) -> Dict:
    """A RECOLA release made from 2 GRID clips: subjects ``P16`` and
    ``P17``, ``RECOLA-Video-recordings/P<id>.mp4`` (H.264 + AAC),
    ``RECOLA-Audio-recordings/P<id>.wav`` (44.1 kHz mono PCM) and the 6
    raters' arousal and valence every 40 ms for the 75 frames.

    Args:
        root (str): Output folder.

    Returns:
        dict: ``root``, ``subjects``, ``videos`` and ``audio`` (subject ->
        path), ``ratings`` (subject -> dict(valence=[75, 6],
        arousal=[75, 6])), ``gold`` (subject -> float32 ``[75, 2]``
        valence, arousal = mean of the raters), ``num_frames``, ``fps``.
    """
    ann = osp.join(root, 'RECOLA-Annotation', 'emotional_behaviour')
    out = dict(
        root=root,
        subjects=['P16', 'P17'],
        videos={},
        audio={},
        ratings={},
        gold={},
        num_frames=GRID_FRAMES,
        fps=GRID_FPS)
    rng = np.random.default_rng(16)
    for clip, subject in zip((3, 4), out['subjects']):
        out['videos'][subject] = transcode(
            grid_clip(clip),
            osp.join(root, 'RECOLA-Video-recordings', f'{subject}.mp4'),
            sample_rate=44100)
        out['audio'][subject] = transcode(
            grid_clip(clip),
            osp.join(root, 'RECOLA-Audio-recordings', f'{subject}.wav'),
            video_codec=None,
            audio_codec='pcm_s16le',
            sample_rate=44100,
            layout='mono')
        ratings = {}
        for column, dim in enumerate(('valence', 'arousal')):
            base = va_curves(GRID_FRAMES, int(rng.integers(1000)))[:, column]
            raters = np.clip(base[:, None] + rng.uniform(-0.15, 0.15, 6)[None],
                             -1, 1)
            raters = np.round(raters, 4)
            write_recola_csv(osp.join(ann, dim, f'{subject}.csv'), raters)
            ratings[dim] = raters
        out['ratings'][subject] = ratings
        out['gold'][subject] = np.stack(
            [ratings['valence'].mean(1), ratings['arousal'].mean(1)],
            axis=1).astype(np.float32)
    return out
