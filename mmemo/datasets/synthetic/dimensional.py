# Copyright (c) mmemo contributors. All rights reserved.
"""The dimensional synthetic set: per-frame valence and arousal.

Each video is 10-20 s of a face and a voice. Valence(t), a smooth random
walk in ``[-1, 1]``, bends the mouth (and moves the brows) continuously;
arousal(t), an independent walk, sets the syllable rate, the loudness and
the pitch range of the voice. Video alone can therefore track valence only
and audio alone arousal only. The annotations follow the Aff-Wild2 VA
challenge: one txt per face, ``valence,arousal`` then one ``v,a`` line per
video frame, ``-5,-5`` where a frame is unannotated. One video shows two
faces side by side (``<name>_left.txt`` / ``<name>_right.txt``), each with
its own valence and the voice's arousal.

Output folder::

    videos/<actor:04d>_VA_<rep:02d>.mp4          H.264 + AAC
    audio/<actor:04d>_VA_<rep:02d>.wav           the same samples, PCM
    annotations/VA_Estimation_Challenge/
        Train_Set/<name>.txt                     (split by actor)
        Validation_Set/<name>.txt
    meta.json
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmemo.utils.affwild2_va_txt import va_annotation_text
from .common import (STREAM_AUDIO, STREAM_CLIP, STREAM_LABELS, STREAM_PIXELS,
                     MediaParams, finish_out_dir, plan_actors, prepare_out_dir,
                     resolve_params, rng_for, run_jobs, set_meta)
from .face import (draw_background, draw_face, finish_frame, mouth_geometry,
                   random_background)
from .voice import (db_to_gain, harmonic_amplitudes, render_bursts, to_pcm16,
                    transpose, white_noise)
from .writer import write_media

ANNOTATION_DIR = 'annotations/VA_Estimation_Challenge'
SPLIT_DIRS = dict(train='Train_Set', val='Validation_Set')
_OWNED = ('videos', 'audio', 'annotations')
_MARGIN = 0.1  # s of silence kept at the end of the track


@dataclass
class DimensionalParams(MediaParams):
    """Parameters of the dimensional set (all saved in ``meta.json``), on
    top of :class:`MediaParams`. The walks are Ornstein-Uhlenbeck
    processes (mean reversion ``walk_theta`` per s, volatility
    ``walk_sigma`` per sqrt(s)) reflected into ``[-1, 1]`` and smoothed by a
    Gaussian of ``walk_smooth`` s. At arousal ``a`` the syllable rate is
    ``syllable_rate * syllable_rate_factor**a``, the loudness ``level_db +
    loudness_db * a`` and the pitch glide ``contour_semitones +
    contour_arousal * a``.
    """
    num_videos: int = 6
    num_actors: int = 3
    num_val_actors: int = 1
    duration_range: Tuple[float, float] = (10.0, 10.0)
    two_faces: bool = True
    pair_offset: float = 0.05
    pair_scale_range: Tuple[float, float] = (0.38, 0.46)
    walk_theta: float = 0.3
    walk_sigma: float = 0.45
    walk_smooth: float = 0.4
    unannotated_runs: Tuple[int, int] = (1, 3)
    unannotated_length: Tuple[int, int] = (3, 12)
    syllable_rate: float = 3.5
    syllable_rate_factor: float = 1.8
    duty_range: Tuple[float, float] = (0.55, 0.8)
    pause_prob: float = 0.1
    pause_range: Tuple[float, float] = (0.2, 0.6)
    contour_semitones: float = 4.0
    contour_arousal: float = 3.0
    level_jitter_db: float = 3.0
    loudness_db: float = 10.0
    snr_db_range: Tuple[float, float] = (15.0, 30.0)

    def validate(self) -> None:
        """Normalize the resolution and check the values that can clash."""
        super().validate()
        if self.num_videos < 1:
            raise ValueError('num_videos must be >= 1')
        if not 0 <= self.num_val_actors < self.num_actors:
            raise ValueError('need 0 <= num_val_actors < num_actors')
        if self.duration_range[0] < 1:
            raise ValueError('videos must last at least 1 s')


SIZES = dict(
    tiny=dict(
        num_videos=6,
        num_actors=3,
        num_val_actors=1,
        duration_range=(10.0, 10.0)),
    default=dict(
        num_videos=30,
        num_actors=10,
        num_val_actors=2,
        duration_range=(10.0, 20.0)))


def video_name(actor: int, rep: int) -> str:
    """The stem ``<actor:04d>_VA_<rep:02d>``."""
    return f'{actor:04d}_VA_{rep:02d}'


def smooth_walk(rng: np.random.Generator, num: int, fps: float, theta: float,
                sigma: float, smooth: float) -> np.ndarray:
    """A smooth random walk in ``[-1, 1]``, one value per frame.

    An Ornstein-Uhlenbeck process reflected at the bounds, then smoothed
    with a Gaussian; a weighted mean of values in ``[-1, 1]`` stays there.

    Args:
        rng (np.random.Generator): Random generator.
        num (int): Number of frames.
        fps (float): Frame rate.
        theta (float): Mean reversion per second.
        sigma (float): Volatility per sqrt(second).
        smooth (float): Standard deviation of the smoothing, s.

    Returns:
        np.ndarray: ``[num]`` float64 values rounded to 6 decimals (as
        annotated, so the drawing and the annotation agree exactly).
    """
    dt = 1 / fps
    steps = rng.standard_normal(num) * sigma * np.sqrt(dt)
    x = np.empty(num)
    value = rng.uniform(-0.7, 0.7)
    for i in range(num):
        value += -theta * value * dt + steps[i]
        value = 2 - value if value > 1 else value
        value = -2 - value if value < -1 else value
        x[i] = value
    radius = max(1, int(round(3 * smooth * fps)))
    kernel = np.exp(
        -0.5 * (np.arange(-radius, radius + 1) / max(smooth * fps, 1e-6))**2)
    padded = np.pad(x, radius, mode='reflect' if num > radius else 'edge')
    x = np.convolve(padded, kernel / kernel.sum(), mode='valid')
    return np.clip(np.round(x, 6), -1, 1)


def _unannotated_runs(rng: np.random.Generator, num: int,
                      params: DimensionalParams) -> List[List[int]]:
    """``[start, end)`` frame runs whose annotation is ``-5,-5``."""
    runs = []
    low, high = params.unannotated_runs
    for _ in range(int(rng.integers(low, high + 1))):
        length = int(
            rng.integers(params.unannotated_length[0],
                         params.unannotated_length[1] + 1))
        length = min(length, max(1, num // 4))
        start = int(rng.integers(0, num - length + 1))
        runs.append([start, start + length])
    return sorted(runs)


def _plan_bursts(rng: np.random.Generator, params: DimensionalParams,
                 arousal: np.ndarray, duration: float, pitch: float,
                 level_db: float) -> List[List[float]]:
    """Syllables driven by arousal: ``[start, duration, f_start, f_end,
    level_db]`` each."""
    fps = params.fps
    bursts = []
    t = float(rng.uniform(0, 0.3))
    while True:
        a = float(arousal[min(len(arousal) - 1, int(t * fps))])
        period = rng.uniform(0.85, 1.15) / (
            params.syllable_rate * params.syllable_rate_factor**a)
        length = float(rng.uniform(*params.duty_range) * period)
        if t + length > duration - _MARGIN:
            break
        glide = max(0.0, params.contour_semitones + params.contour_arousal * a)
        glide *= rng.uniform(0.8, 1.2) * rng.choice([-1, 1])
        centre = transpose(pitch,
                           rng.uniform(-1, 1) * params.burst_pitch_jitter)
        bursts.append([
            t, length,
            transpose(centre, -glide / 2),
            transpose(centre, glide / 2), level_db + params.loudness_db * a
        ])
        t += float(period)
        if rng.random() < params.pause_prob:
            t += float(rng.uniform(*params.pause_range))
    return bursts


def _place_faces(rng: np.random.Generator, params: DimensionalParams,
                 actors: Sequence[int], styles: Dict[int, Dict]) -> List[Dict]:
    """Centre and height of one face, or of two side by side."""
    h, w = params.resolution
    if len(actors) == 1:
        xs = [w / 2]
        offset, scales = params.face_offset, params.face_scale_range
    else:  # each face in its half of the frame
        xs = [w / 4, 3 * w / 4]
        offset, scales = params.pair_offset, params.pair_scale_range
    faces = []
    for actor, x in zip(actors, xs):
        scale = float(rng.uniform(*scales))
        centre = [
            x + float(rng.uniform(-1, 1)) * offset * w,
            h / 2 + float(rng.uniform(-1, 1)) * offset * h
        ]
        faces.append(
            dict(
                actor=actor,
                centre=centre,
                height=scale * h,
                scale=scale,
                mouth=mouth_geometry(centre, scale * h,
                                     styles[actor]['face'])))
    return faces


def _actors_of(index: int, params: DimensionalParams) -> List[int]:
    """The actor(s) of video ``index``; video 0 may show two."""
    actor = index % params.num_actors + 1
    if not (params.two_faces and index == 0):
        return [actor]
    # A partner from the same split, so the split stays by subject.
    split = _split_of(actor, params)
    partners = [
        a for a in range(1, params.num_actors + 1)
        if a != actor and _split_of(a, params) == split
    ]
    return [actor, partners[0] if partners else actor]


def _split_of(actor: int, params: DimensionalParams) -> str:
    """The last ``num_val_actors`` actors are the validation subjects."""
    val = actor > params.num_actors - params.num_val_actors
    return 'val' if val else 'train'


def _plan_video(seed: int, index: int, params: DimensionalParams,
                actors: Dict[int, Dict]) -> Tuple[Dict, Dict]:
    """Draw every factor of one video.

    Returns:
        tuple: The video's meta and its per-frame curves (``valence``, one
        array per face, and ``arousal``), which go to the annotation files
        instead of the meta.
    """
    rng = rng_for(seed, STREAM_CLIP, index)
    who = _actors_of(index, params)
    name = video_name(who[0], index // params.num_actors)
    duration = float(rng.uniform(*params.duration_range))
    num_frames = max(1, int(round(duration * params.fps)))
    duration = num_frames / params.fps
    walks = rng_for(seed, STREAM_LABELS, index)
    walk_args = (num_frames, params.fps, params.walk_theta, params.walk_sigma,
                 params.walk_smooth)
    arousal = smooth_walk(walks, *walk_args)
    valence = [smooth_walk(walks, *walk_args) for _ in who]
    split = _split_of(who[0], params)
    faces = _place_faces(rng, params, who, actors)
    sides = ['left', 'right'] if len(who) == 2 else [None]
    for face, side in zip(faces, sides):
        stem = f'{name}_{side}' if side else name
        face['side'] = side
        face['annotation'] = f'{ANNOTATION_DIR}/{SPLIT_DIRS[split]}/{stem}.txt'
        face['unannotated'] = _unannotated_runs(walks, num_frames, params)
    pitch = transpose(actors[who[0]]['pitch'],
                      rng.uniform(-1, 1) * params.clip_pitch_jitter)
    level_db = params.level_db + float(rng.uniform(-1,
                                                   1)) * params.level_jitter_db
    num_harmonics = int(
        rng.integers(params.harmonics_range[0], params.harmonics_range[1] + 1))
    meta = dict(
        name=name,
        video=f'videos/{name}.mp4',
        audio=f'audio/{name}.wav',
        index=index,
        split=split,
        subjects=who,
        num_frames=num_frames,
        duration=duration,
        faces=faces,
        background=random_background(rng),
        brightness=float(rng.uniform(*params.brightness_range)),
        pixel_noise=float(rng.uniform(*params.pixel_noise_range)),
        pitch=pitch,
        num_harmonics=num_harmonics,
        phases=[float(p) for p in rng.uniform(0, 2 * np.pi, num_harmonics)],
        level_db=level_db,
        snr_db=float(rng.uniform(*params.snr_db_range)),
        burst_fields=['start', 'duration', 'f_start', 'f_end', 'level_db'],
        bursts=_plan_bursts(rng, params, arousal, duration, pitch, level_db))
    return meta, dict(valence=valence, arousal=arousal)


def annotation_text(valence: np.ndarray, arousal: np.ndarray,
                    unannotated: Sequence[Sequence[int]]) -> str:
    """An Aff-Wild2 VA file: header, then ``v,a`` per frame (6 decimals).

    Args:
        valence (np.ndarray): ``[T]`` valence per frame.
        arousal (np.ndarray): ``[T]`` arousal per frame.
        unannotated (sequence): ``[start, end)`` runs written as ``-5,-5``.

    Returns:
        str: The file's text.
    """
    valid = np.ones(len(valence), bool)
    for start, end in unannotated:
        valid[start:end] = False
    return va_annotation_text(np.stack([valence, arousal], 1), valid)


def render_frames(video: Dict, valence: Sequence[np.ndarray],
                  actors: Dict[str, Dict], params: Dict,
                  seed: int) -> List[np.ndarray]:
    """Draw the frames of one video, each face bent by its valence.

    Args:
        video (dict): The video's factors (an entry of ``meta['videos']``).
        valence (sequence of np.ndarray): ``[T]`` valence of each face.
        actors (dict): Actor id (str) -> actor plan.
        params (dict): The set's parameters.
        seed (int): The set's seed (for the pixel noise).

    Returns:
        list[np.ndarray]: ``[H, W, 3]`` uint8 RGB frames.
    """
    h, w = params['resolution']
    rng = rng_for(seed, STREAM_PIXELS, video['index'])
    bg = draw_background(h, w, **video['background'])
    frames = []
    for i in range(video['num_frames']):
        img = bg.copy()
        for face, curve in zip(video['faces'], valence):
            draw_face(img, face['centre'], face['height'],
                      actors[str(face['actor'])]['face'], float(curve[i]))
        frames.append(
            finish_frame(img, video['brightness'], video['pixel_noise'], rng))
    return frames


def render_audio(video: Dict, rolloff: float, params: Dict,
                 seed: int) -> np.ndarray:
    """Synthesize the voice of one video.

    The noise level is fixed per video (``snr_db`` below the level at
    arousal 0), so quiet, low-arousal stretches are also noisier.

    Args:
        video (dict): The video's factors (an entry of ``meta['videos']``).
        rolloff (float): The speaking actor's harmonic rolloff.
        params (dict): The set's parameters.
        seed (int): The set's seed (for the noise).

    Returns:
        np.ndarray: ``[S]`` int16 samples.
    """
    sr = params['sample_rate']
    num_samples = int(round(video['duration'] * sr))
    bursts = [dict(zip(video['burst_fields'], b)) for b in video['bursts']]
    for b in bursts:
        b['gain'] = db_to_gain(b.pop('level_db'))
    voice = render_bursts(bursts, num_samples, sr,
                          harmonic_amplitudes(video['num_harmonics'], rolloff),
                          video['phases'])
    noise_rms = db_to_gain(video['level_db'] - video['snr_db'])
    rng = rng_for(seed, STREAM_AUDIO, video['index'])
    return to_pcm16(voice + white_noise(rng, num_samples, noise_rms))


def _write_video(
        job: Tuple[Dict, List[np.ndarray], Dict, Dict, str, int]) -> None:
    video, valence, actors, params, out_dir, seed = job
    speaker = actors[str(video['subjects'][0])]
    write_media(out_dir, video,
                render_frames(video, valence, actors, params, seed),
                render_audio(video, speaker['rolloff'], params, seed), params)


def _plan(size: str, seed: int, overrides: Dict) -> Tuple[Dict, List[Dict]]:
    params = resolve_params(DimensionalParams, SIZES, size, overrides)
    actors = plan_actors(seed, params)
    planned = [
        _plan_video(seed, i, params, actors) for i in range(params.num_videos)
    ]
    meta = set_meta(
        'dimensional',
        size,
        seed,
        params,
        actors,
        annotation_dir=ANNOTATION_DIR,
        label_rule='valence(t) bends the mouth (+1 corners up, -1 down) and '
        'moves the brows; arousal(t) sets the syllable rate, loudness and '
        'pitch range; -5,-5 = unannotated frame',
        videos=[m for m, _ in planned])
    return meta, [curves for _, curves in planned]


def plan_dimensional(size: str = 'tiny', seed: int = 0, **overrides) -> Dict:
    """Draw every factor of a dimensional set without rendering it.

    Args:
        size (str): ``'tiny'`` (6 videos of 10 s) or ``'default'`` (30
            videos of 10-20 s).
        seed (int): The seed. Defaults to 0.
        **overrides: Fields of :class:`DimensionalParams`.

    Returns:
        dict: The meta of the set, as written to ``meta.json``.
    """
    return _plan(size, seed, overrides)[0]


def generate_dimensional(out_dir: str,
                         size: str = 'tiny',
                         seed: int = 0,
                         overwrite: bool = False,
                         nproc: int = 1,
                         progress: bool = True,
                         **overrides) -> str:
    """Generate the dimensional synthetic set (idempotent).

    Same folder rules as :func:`generate_categorical`: a complete identical
    set is kept, an interrupted one regenerated, anything else refused with
    :class:`FileExistsError` unless ``overwrite``.

    Args:
        out_dir (str): Output folder.
        size (str): ``'tiny'`` (6 videos of 10 s, 3 actors) or
            ``'default'`` (30 videos of 10-20 s, 10 actors). Defaults to
            ``'tiny'``.
        seed (int): The seed. Defaults to 0.
        overwrite (bool): Replace a different set. Defaults to False.
        nproc (int): Worker processes. Defaults to 1.
        progress (bool): Show a progress bar. Defaults to True.
        **overrides: Fields of :class:`DimensionalParams`, e.g.
            ``num_videos=3, duration_range=(4, 4)``.

    Returns:
        str: The annotation folder ``<out_dir>/annotations/
        VA_Estimation_Challenge`` (with ``Train_Set`` and
        ``Validation_Set``).
    """
    meta, curves = _plan(size, seed, overrides)
    videos = meta['videos']
    files = [v[k] for v in videos for k in ('video', 'audio')]
    files += [f['annotation'] for v in videos for f in v['faces']]
    ann_dir = osp.join(out_dir, ANNOTATION_DIR)
    if not prepare_out_dir(out_dir, meta, files, _OWNED, overwrite):
        return ann_dir
    for sub in ('videos', 'audio', *(osp.join(ANNOTATION_DIR, s)
                                     for s in SPLIT_DIRS.values())):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    for video, curve in zip(videos, curves):
        for face, valence in zip(video['faces'], curve['valence']):
            with open(osp.join(out_dir, face['annotation']), 'w') as f:
                f.write(
                    annotation_text(valence, curve['arousal'],
                                    face['unannotated']))
    jobs = [(v, c['valence'], meta['actors'], meta['params'], out_dir,
             meta['seed']) for v, c in zip(videos, curves)]
    run_jobs(_write_video, jobs, nproc=nproc, progress=progress)
    finish_out_dir(out_dir, meta)
    return ann_dir


def read_annotation(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read an Aff-Wild2 VA file.

    Args:
        path (str): The txt file.

    Returns:
        tuple: ``valence`` and ``arousal``, ``[T]`` float arrays
        (``-5`` where unannotated).
    """
    data = np.loadtxt(path, delimiter=',', skiprows=1, ndmin=2)
    return data[:, 0], data[:, 1]
