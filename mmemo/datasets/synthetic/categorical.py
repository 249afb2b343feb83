# Copyright (c) mmemo contributors. All rights reserved.
"""The categorical synthetic set: 6 classes that need both modalities.

Each clip combines a facial expression ``V`` (0 smile, 1 neutral, 2 frown),
shown from a random onset on, and a pitch contour ``A`` (0 rising, 1
falling) of the voiced syllables; the label is ``2 * V + A``. Video alone
can tell ``V`` only (at most 1/2 accuracy), audio alone ``A`` only (at most
1/3); both together tell the label. Everything else (face position and size,
background, brightness, pitch, syllable timing, loudness, noise) is a random
nuisance, and an actor id fixes the face's look and the voice's pitch so that
subject-independent folds mean something.

Output folder::

    videos/<actor:04d>_SYN_<label>_<rep:02d>.mp4   H.264 + AAC
    audio/<actor:04d>_SYN_<label>_<rep:02d>.wav    the same samples, PCM
    annotations.csv     video,audio,label,subject (paths relative)
    classes.txt         class names in label order
    meta.json           version, parameters, every clip's factors
"""
import csv
import io
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .common import (STREAM_AUDIO, STREAM_CLIP, STREAM_PIXELS, MediaParams,
                     finish_out_dir, plan_actors, prepare_out_dir,
                     resolve_params, rng_for, run_jobs, set_meta)
from .face import (draw_background, draw_face, finish_frame, mouth_geometry,
                   random_background)
from .voice import (db_to_gain, harmonic_amplitudes, render_bursts, to_pcm16,
                    transpose, white_noise)
from .writer import write_media

# V -> expression name and mouth bend; A -> pitch contour name.
EXPRESSIONS = (('smile', 1.0), ('neutral', 0.0), ('frown', -1.0))
CONTOURS = ('rising', 'falling')
CLASSES = tuple(f'{e}+{c}' for e, _ in EXPRESSIONS for c in CONTOURS)
ANNOTATION_FILE = 'annotations.csv'
CLASSES_FILE = 'classes.txt'
_OWNED = ('videos', 'audio', ANNOTATION_FILE, CLASSES_FILE)
_MARGIN = 0.1  # s of silence kept at both ends of the clip


@dataclass
class CategoricalParams(MediaParams):
    """Parameters of the categorical set (all saved in ``meta.json``), on
    top of :class:`MediaParams`."""
    num_actors: int = 5
    reps_per_class: int = 2
    duration: float = 3.0
    onset_range: Tuple[float, float] = (0.3, 1.0)
    onset_ramp: float = 0.12
    bursts_range: Tuple[int, int] = (3, 5)
    syllable_rate_range: Tuple[float, float] = (2.0, 4.0)
    duty_range: Tuple[float, float] = (0.6, 0.8)
    contour_range: Tuple[float, float] = (3.0, 6.0)
    level_jitter_db: float = 10.0
    snr_db_range: Tuple[float, float] = (10.0, 30.0)

    def validate(self) -> None:
        """Normalize the resolution and check the values that can clash."""
        super().validate()
        if self.num_actors < 1 or self.reps_per_class < 1:
            raise ValueError('num_actors and reps_per_class must be >= 1')
        if self.onset_range[1] + self.onset_ramp >= self.duration:
            raise ValueError('the expression must be reached before the end '
                             'of the clip (onset_range, onset_ramp)')
        if self.duration - 2 * _MARGIN <= self.bursts_range[1] * 0.1:
            raise ValueError(f'duration {self.duration} s is too short')


SIZES = dict(
    tiny=dict(num_actors=5, reps_per_class=2),
    default=dict(num_actors=10, reps_per_class=10))


def clip_name(actor: int, label: int, rep: int) -> str:
    """The CREMA-D-like stem ``<actor:04d>_SYN_<label>_<rep:02d>``."""
    return f'{actor:04d}_SYN_{label}_{rep:02d}'


def _plan_bursts(rng: np.random.Generator, params: CategoricalParams,
                 pitch: float, falling: bool) -> Tuple[List[Dict], Dict]:
    """Syllable timing and pitch glides of one clip."""
    num = int(rng.integers(params.bursts_range[0], params.bursts_range[1] + 1))
    rate = float(rng.uniform(*params.syllable_rate_range))
    duty = float(rng.uniform(*params.duty_range))
    contour = float(rng.uniform(*params.contour_range))
    periods = rng.uniform(0.85, 1.15, num) / rate
    durations = duty * periods
    span = periods[:-1].sum() + durations[-1]
    room = params.duration - 2 * _MARGIN
    if span > room:  # too many slow syllables: speak faster
        periods, durations = periods * room / span, durations * room / span
        span = room
    start = _MARGIN + float(rng.uniform(0, room - span))
    starts = start + np.concatenate([[0], np.cumsum(periods[:-1])])
    sign = -1 if falling else 1
    bursts = []
    for s, d in zip(starts, durations):
        centre = transpose(pitch,
                           rng.uniform(-1, 1) * params.burst_pitch_jitter)
        glide = contour * rng.uniform(0.8, 1.2)
        bursts.append(
            dict(
                start=float(s),
                duration=float(d),
                f_start=transpose(centre, -sign * glide / 2),
                f_end=transpose(centre, sign * glide / 2)))
    return bursts, dict(
        num_bursts=num,
        syllable_rate=rate,
        duty=duty,
        contour_semitones=contour)


def _plan_clip(seed: int, params: CategoricalParams, actor: int, label: int,
               rep: int, actor_plan: Dict) -> Dict:
    """Draw every factor of one clip (no rendering)."""
    rng = rng_for(seed, STREAM_CLIP, actor, label, rep)
    v, a = divmod(label, 2)
    h, w = params.resolution
    name = clip_name(actor, label, rep)
    scale = float(rng.uniform(*params.face_scale_range))
    centre = [
        w / 2 + float(rng.uniform(-1, 1)) * params.face_offset * w,
        h / 2 + float(rng.uniform(-1, 1)) * params.face_offset * h
    ]
    onset = float(rng.uniform(*params.onset_range))
    pitch = transpose(actor_plan['pitch'],
                      rng.uniform(-1, 1) * params.clip_pitch_jitter)
    bursts, timing = _plan_bursts(rng, params, pitch, falling=bool(a))
    num_harmonics = int(
        rng.integers(params.harmonics_range[0], params.harmonics_range[1] + 1))
    return dict(
        name=name,
        video=f'videos/{name}.mp4',
        audio=f'audio/{name}.wav',
        label=label,
        subject=actor,
        rep=rep,
        V=v,
        A=a,
        expression=EXPRESSIONS[v][0],
        contour=CONTOURS[a],
        onset=onset,
        onset_frame=int(np.floor(onset * params.fps)) + 1,
        face=dict(centre=centre, height=scale * h, scale=scale),
        mouth=mouth_geometry(centre, scale * h, actor_plan['face']),
        background=random_background(rng),
        brightness=float(rng.uniform(*params.brightness_range)),
        pixel_noise=float(rng.uniform(*params.pixel_noise_range)),
        pitch=pitch,
        num_harmonics=num_harmonics,
        phases=[float(p) for p in rng.uniform(0, 2 * np.pi, num_harmonics)],
        level_db=params.level_db +
        float(rng.uniform(-1, 1)) * params.level_jitter_db,
        snr_db=float(rng.uniform(*params.snr_db_range)),
        **timing,
        bursts=bursts)


def expression_at(t: float, onset: float, ramp: float, target: float) -> float:
    """Expression at time ``t``: neutral up to ``onset``, then ``target``.

    The change takes ``ramp`` seconds, starting at the onset, so every frame
    at or before the onset is exactly neutral.
    """
    if ramp <= 0:
        return target if t > onset else 0.0
    return target * float(np.clip((t - onset) / ramp, 0, 1))


def render_frames(clip: Dict, style: Dict, params: Dict,
                  seed: int) -> List[np.ndarray]:
    """Draw the frames of one clip.

    Args:
        clip (dict): The clip's factors (an entry of ``meta['clips']``).
        style (dict): Its actor's face style.
        params (dict): The set's parameters.
        seed (int): The set's seed (for the pixel noise).

    Returns:
        list[np.ndarray]: ``[H, W, 3]`` uint8 RGB frames.
    """
    h, w = params['resolution']
    fps = params['fps']
    rng = rng_for(seed, STREAM_PIXELS, clip['subject'], clip['label'],
                  clip['rep'])
    bg = draw_background(h, w, **clip['background'])
    target = EXPRESSIONS[clip['V']][1]
    drawn = {}  # expression -> drawing (most frames repeat one)
    frames = []
    for i in range(int(round(params['duration'] * fps))):
        e = expression_at(i / fps, clip['onset'], params['onset_ramp'], target)
        if e not in drawn:
            img = bg.copy()
            draw_face(img, clip['face']['centre'], clip['face']['height'],
                      style, e)
            drawn[e] = img
        frames.append(
            finish_frame(drawn[e], clip['brightness'], clip['pixel_noise'],
                         rng))
    return frames


def render_audio(clip: Dict, rolloff: float, params: Dict,
                 seed: int) -> np.ndarray:
    """Synthesize the sound of one clip.

    Args:
        clip (dict): The clip's factors (an entry of ``meta['clips']``).
        rolloff (float): Its actor's harmonic rolloff.
        params (dict): The set's parameters.
        seed (int): The set's seed (for the noise).

    Returns:
        np.ndarray: ``[S]`` int16 samples.
    """
    sr = params['sample_rate']
    num_samples = int(round(params['duration'] * sr))
    gain = db_to_gain(clip['level_db'])
    bursts = [dict(b, gain=gain) for b in clip['bursts']]
    voice = render_bursts(bursts, num_samples, sr,
                          harmonic_amplitudes(clip['num_harmonics'], rolloff),
                          clip['phases'])
    # SNR against the power of the whole clip, pauses included.
    noise_rms = np.sqrt(np.mean(voice**2) / 10**(clip['snr_db'] / 10))
    rng = rng_for(seed, STREAM_AUDIO, clip['subject'], clip['label'],
                  clip['rep'])
    return to_pcm16(voice + white_noise(rng, num_samples, noise_rms))


def _write_clip(job: Tuple[Dict, Dict, Dict, str, int]) -> None:
    clip, actor, params, out_dir, seed = job
    write_media(out_dir, clip, render_frames(clip, actor['face'], params,
                                             seed),
                render_audio(clip, actor['rolloff'], params, seed), params)


def annotation_csv(clips: Sequence[Dict]) -> str:
    """The text of ``annotations.csv`` (rows sorted by file name)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(['video', 'audio', 'label', 'subject'])
    for c in sorted(clips, key=lambda c: c['video']):
        writer.writerow([c['video'], c['audio'], c['label'], c['subject']])
    return buf.getvalue()


def plan_categorical(size: str = 'tiny', seed: int = 0, **overrides) -> Dict:
    """Draw every factor of a categorical set without rendering it.

    Args:
        size (str): ``'tiny'`` (5 actors x 12 clips) or ``'default'`` (10
            actors x 60 clips).
        seed (int): The seed. Defaults to 0.
        **overrides: Fields of :class:`CategoricalParams`.

    Returns:
        dict: The meta of the set, as written to ``meta.json``.
    """
    params = resolve_params(CategoricalParams, SIZES, size, overrides)
    actors = plan_actors(seed, params)
    clips = [
        _plan_clip(seed, params, a, label, rep, actors[a]) for a in actors
        for label in range(len(CLASSES))
        for rep in range(params.reps_per_class)
    ]
    return set_meta(
        'categorical',
        size,
        seed,
        params,
        actors,
        classes=list(CLASSES),
        label_rule='label = 2 * V + A; V: 0 smile, 1 neutral, 2 frown '
        '(mouth corners up / flat / down from the onset on); A: 0 rising, '
        '1 falling pitch within each syllable',
        clips=sorted(clips, key=lambda c: c['name']))


def generate_categorical(out_dir: str,
                         size: str = 'tiny',
                         seed: int = 0,
                         overwrite: bool = False,
                         nproc: int = 1,
                         progress: bool = True,
                         **overrides) -> str:
    """Generate the categorical synthetic set (idempotent).

    If ``out_dir`` already holds the complete set of the same parameters and
    seed, nothing is done. A folder left by an interrupted run of the same
    set is regenerated. Any other non-empty folder raises
    :class:`FileExistsError` unless ``overwrite`` (which removes the
    generator's own files and folders there first).

    Args:
        out_dir (str): Output folder.
        size (str): ``'tiny'`` (5 actors x 12 clips, for CI) or
            ``'default'`` (10 actors x 60 clips). Defaults to ``'tiny'``.
        seed (int): The seed. Defaults to 0.
        overwrite (bool): Replace a different set. Defaults to False.
        nproc (int): Worker processes. Defaults to 1.
        progress (bool): Show a progress bar. Defaults to True.
        **overrides: Fields of :class:`CategoricalParams`, e.g.
            ``num_actors=2, reps_per_class=1, resolution=96``.

    Returns:
        str: Path of ``annotations.csv``.
    """
    meta = plan_categorical(size, seed, **overrides)
    clips = meta['clips']
    files = [c[k] for c in clips for k in ('video', 'audio')]
    files += [ANNOTATION_FILE, CLASSES_FILE]
    ann_file = osp.join(out_dir, ANNOTATION_FILE)
    if not prepare_out_dir(out_dir, meta, files, _OWNED, overwrite):
        return ann_file
    for sub in ('videos', 'audio'):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    jobs = [(c, meta['actors'][str(c['subject'])], meta['params'], out_dir,
             meta['seed']) for c in clips]
    run_jobs(_write_clip, jobs, nproc=nproc, progress=progress)
    with open(osp.join(out_dir, CLASSES_FILE), 'w') as f:
        f.write(''.join(f'{c}\n' for c in CLASSES))
    with open(ann_file, 'w', newline='') as f:
        f.write(annotation_csv(clips))
    finish_out_dir(out_dir, meta)
    return ann_file
