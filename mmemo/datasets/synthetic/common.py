# Copyright (c) mmemo contributors. All rights reserved.
"""What both variants share: parameters, seeding, the output folder's
bookkeeping (idempotent runs, ``meta.json``) and running the clip jobs.

Seeding: every random draw comes from ``np.random.default_rng([seed, stream,
*ids])`` with a fixed ``stream`` per purpose (actor look, clip factors,
pixel noise, ...). A clip's data therefore depend only on the seed and its
own ids, not on the order or the process it is generated in.
"""
import dataclasses
import json
import multiprocessing
import os
import os.path as osp
import shutil
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import barrier, get_rank
from mmengine.utils import ProgressBar

from ...utils import strict_json
from .face import random_face_style
from .voice import transpose

GENERATOR_VERSION = '1.1'
META_FILE = 'meta.json'
# Written (with the planned meta) before the first clip, removed after the
# last: a folder holding it was left by an interrupted run.
MARKER_FILE = '.generating.json'
# Meta keys that describe the machine, not the data: not compared.
_UNCOMPARED = ('environment', )

# Random streams (the second entry of every generator's seed sequence).
STREAM_ACTOR = 1
STREAM_CLIP = 2
STREAM_PIXELS = 3
STREAM_AUDIO = 4
STREAM_LABELS = 5


def rng_for(seed: int, stream: int, *ids: int) -> np.random.Generator:
    """The random generator of one purpose (``stream``) and one item."""
    return np.random.default_rng([int(seed), int(stream), *map(int, ids)])


def plan_actor(seed: int, actor: int, pitch_range: Sequence[float],
               pitch_margin: float, rolloff_range: Sequence[float]) -> Dict:
    """Draw what an actor id fixes: the face's look and the voice.

    Args:
        seed (int): The set's seed.
        actor (int): Actor id.
        pitch_range (sequence of float): Range of the clips' base pitch, Hz.
        pitch_margin (float): Semitones kept free at both ends of
            ``pitch_range`` for the clips' own pitch jitter.
        rolloff_range (sequence of float): Range of the harmonic rolloff.

    Returns:
        dict: ``face`` (style), ``pitch`` (Hz) and ``rolloff``.
    """
    rng = rng_for(seed, STREAM_ACTOR, actor)
    style = random_face_style(rng)
    low = transpose(pitch_range[0], pitch_margin)
    high = transpose(pitch_range[1], -pitch_margin)
    return dict(
        face=style,
        pitch=float(rng.uniform(low, high)),
        rolloff=float(rng.uniform(*rolloff_range)))


def plan_actors(seed: int, params: Any) -> Dict[int, Dict]:
    """:func:`plan_actor` for actors ``1..params.num_actors``."""
    return {
        a:
        plan_actor(seed, a, params.pitch_range, params.clip_pitch_jitter,
                   params.rolloff_range)
        for a in range(1, params.num_actors + 1)
    }


@dataclasses.dataclass
class MediaParams:
    """The parameters both variants draw faces, voices and files with.

    Ranges are ``(low, high)`` of uniform draws; pitch intervals are in
    semitones, levels in dB (full scale). The variants add their own.
    """
    fps: int = 25
    resolution: Any = 128
    sample_rate: int = 16000
    face_offset: float = 0.15
    face_scale_range: Tuple[float, float] = (0.6, 0.9)
    brightness_range: Tuple[float, float] = (0.75, 1.25)
    pixel_noise_range: Tuple[float, float] = (2.0, 8.0)
    pitch_range: Tuple[float, float] = (110.0, 260.0)
    clip_pitch_jitter: float = 1.0
    burst_pitch_jitter: float = 0.7
    harmonics_range: Tuple[int, int] = (4, 6)
    rolloff_range: Tuple[float, float] = (0.8, 1.4)
    level_db: float = -26.0
    crf: int = 20
    preset: str = 'veryfast'
    audio_bitrate: int = 64000

    def validate(self) -> None:
        """Normalize the resolution (the variants check more)."""
        self.resolution = frame_size(self.resolution)


def set_meta(variant: str, size: str, seed: int, params: Any,
             actors: Dict[int, Dict], **fields) -> Dict:
    """The ``meta.json`` content of a planned set.

    Args:
        variant (str): ``'categorical'`` or ``'dimensional'``.
        size (str): The size name.
        seed (int): The seed.
        params: The resolved parameter dataclass.
        actors (dict): :func:`plan_actors`.
        **fields: The variant's own entries (label rule, clips, ...).

    Returns:
        dict: The meta, floats rounded.
    """
    return round_floats(
        dict(
            generator='mmemo.datasets.synthetic',
            version=GENERATOR_VERSION,
            variant=variant,
            size=size,
            seed=int(seed),
            params=as_dict(params),
            actors={
                str(a): p
                for a, p in actors.items()
            },
            environment=environment(),
            **fields))


def resolve_params(defaults: type, sizes: Dict[str, Dict], size: str,
                   overrides: Dict[str, Any]) -> Any:
    """Build a parameter dataclass from a size preset and overrides.

    Args:
        defaults (type): The dataclass of the variant.
        sizes (dict): Preset name -> field values.
        size (str): The preset.
        overrides (dict): Field values replacing the preset's.

    Returns:
        The dataclass instance.
    """
    if size not in sizes:
        raise ValueError(f'size must be one of {sorted(sizes)}, got {size!r}')
    fields = {f.name for f in dataclasses.fields(defaults)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f'unknown parameter(s) {unknown} for '
                        f'{defaults.__name__}; known: {sorted(fields)}')
    params = defaults(**{**sizes[size], **overrides})
    params.validate()
    return params


def frame_size(resolution: Any) -> List[int]:
    """``[height, width]`` of an int (square) or a ``(h, w)`` resolution."""
    if isinstance(resolution, (int, np.integer)):
        size = [int(resolution)] * 2
    else:
        size = [int(r) for r in resolution]
    if len(size) != 2 or min(size) < 32 or any(s % 2 for s in size):
        # yuv420p halves the chroma planes, so H.264 needs even sizes.
        raise ValueError('resolution must be an even int or (h, w) of even '
                         f'ints >= 32, got {resolution!r}')
    return size


def round_floats(obj: Any, ndigits: int = 6) -> Any:
    """Round every float in a JSON-like structure (for a readable meta)."""
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, dict):
        return {k: round_floats(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, ndigits) for v in obj]
    return obj


def environment() -> Dict[str, Any]:
    """Library versions the media were made with (informative only)."""
    import av
    import cv2
    return dict(
        numpy=np.__version__,
        opencv=cv2.__version__,
        pyav=av.__version__,
        ffmpeg={
            k: '.'.join(map(str, v))
            for k, v in av.library_versions.items()
            if k in ('libavcodec', 'libavformat')
        })


def dump_json(obj: Any) -> str:
    """The one JSON text form of the meta (stable, so byte-comparable)."""
    return strict_json.dumps(obj, indent=1, sort_keys=True) + '\n'


def _comparable(meta: Dict) -> Dict:
    meta = json.loads(dump_json(meta))  # the form it has once read back
    return {k: v for k, v in meta.items() if k not in _UNCOMPARED}


def _read_json(path: str) -> Optional[Dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _differences(old: Dict, new: Dict) -> str:
    """What differs between two (comparable) metas, for the error."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    found = [
        f'{k}: {old.get(k)!r} (found) vs {new.get(k)!r} (asked)' for k in keys
        if not isinstance(new.get(k), (dict, list))
    ]
    if 'params' in keys:
        old_params, new_params = old.get('params') or {}, new['params']
        names = sorted(
            p for p in set(old_params) | set(new_params)
            if old_params.get(p) != new_params.get(p))
        found.append(f'params {", ".join(names)}')
    return '; '.join(found) or f'{", ".join(keys)} differ'


def prepare_out_dir(out_dir: str, meta: Dict, files: Sequence[str],
                    owned: Sequence[str], overwrite: bool) -> bool:
    """Decide whether to generate, and clear the way if so.

    Args:
        out_dir (str): The output folder.
        meta (dict): The meta of the set that would be generated.
        files (sequence of str): Every file of that set, relative to
            ``out_dir``.
        owned (sequence of str): Files and folders (relative) the generator
            writes; removed before generating.
        overwrite (bool): Replace a different set instead of raising.

    Returns:
        bool: False if ``out_dir`` already holds this very set (nothing to
        do), True if the caller must generate it.
    """
    new = _comparable(meta)
    old = _read_json(osp.join(out_dir, META_FILE))
    if old is not None and _comparable(old) == new and all(
            osp.isfile(osp.join(out_dir, f)) for f in files):
        return False
    marker = _read_json(osp.join(out_dir, MARKER_FILE))
    resumable = old is None and marker is not None and _comparable(
        marker) == new
    same_but_incomplete = old is not None and _comparable(old) == new
    if osp.isdir(out_dir) and os.listdir(out_dir) and not (
            overwrite or resumable or same_but_incomplete):
        why = (f'it holds another synthetic set '
               f'({_differences(_comparable(old), new)})' if old is not None
               else 'it is not empty and holds no complete synthetic set')
        raise FileExistsError(
            f'Cannot generate the synthetic set into {out_dir!r}: {why}. '
            'Pass overwrite=True (--overwrite) to replace it, or choose '
            'another folder.')
    for rel in (*owned, META_FILE, MARKER_FILE):
        path = osp.join(out_dir, rel)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        elif osp.lexists(path):
            os.remove(path)
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, MARKER_FILE), 'w') as f:
        f.write(dump_json(meta))
    return True


def finish_out_dir(out_dir: str, meta: Dict) -> None:
    """Write ``meta.json`` (the mark of a complete set), drop the marker."""
    with open(osp.join(out_dir, META_FILE), 'w') as f:
        f.write(dump_json(meta))
    os.remove(osp.join(out_dir, MARKER_FILE))


def run_jobs(func: Callable,
             jobs: Sequence,
             nproc: int = 1,
             progress: bool = True) -> List:
    """Run ``func`` on every job, optionally in processes, with a bar.

    Args:
        func (callable): A picklable module-level function.
        jobs (sequence): Its arguments, one per call.
        nproc (int): Processes; 1 runs in this process. Defaults to 1.
        progress (bool): Show an mmengine progress bar. Defaults to True.

    Returns:
        list: The results in job order.
    """
    bar = ProgressBar(len(jobs)) if progress and jobs else None
    results = []
    if nproc <= 1 or len(jobs) <= 1:
        for job in jobs:
            results.append(func(job))
            if bar is not None:
                bar.update()
    else:
        # fork: the workers inherit the imported modules instead of
        # importing mmemo (and torch) again.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context('fork' if 'fork' in
                                          methods else None)
        with ctx.Pool(min(nproc, len(jobs))) as pool:
            for result in pool.imap(func, jobs):
                results.append(result)
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.file.write('\n')
    return results


def as_dict(params: Any) -> Dict[str, Any]:
    """A parameter dataclass as a JSON-friendly dict."""
    return round_floats(dataclasses.asdict(params))


def generate_on_rank0(generate: Callable, out_dir: str, **kwargs) -> None:
    """Run a generator on rank 0 while the other ranks wait.

    The synthetic datasets write their set on first use; under torchrun
    only rank 0 writes, the others find the finished folder after the
    barrier (a no-op without a process group).

    Args:
        generate (callable): ``generate_categorical`` or
            ``generate_dimensional``.
        out_dir (str): Output folder.
        **kwargs: The generator's arguments (``size``, ``seed``, ...).
    """
    if get_rank() == 0:
        generate(out_dir, **kwargs)
    barrier()


class GeneratedOnFirstRead:
    """Mixin of the synthetic datasets: write the set when it is first read.

    In ``full_init`` rather than ``__init__``: a dataset built with
    ``lazy_init=True`` (e.g. by :class:`~mmemo.apis.AVInferencer`, for its
    pipeline and settings) writes nothing. The dataset sets ``generate``,
    ``size``, ``seed``, ``nproc`` and ``_generate_root``; ``GENERATOR`` is
    the generator (a staticmethod).
    """

    GENERATOR: Callable

    def full_init(self) -> None:
        """Write the set when it is missing (``generate``), then read it."""
        if self.generate and not self._fully_initialized:
            generate_on_rank0(
                self.GENERATOR,
                self._generate_root,
                size=self.size,
                seed=self.seed,
                nproc=self.nproc)
        super().full_init()
