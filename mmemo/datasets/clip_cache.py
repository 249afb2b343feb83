# Copyright (c) mmemo contributors. All rights reserved.
"""A cache of decoded clips for end-to-end training.

An end-to-end config's pipeline starts with deterministic, costly steps
(open and decode the video, detect and crop the faces, read and align the
audio) and ends with cheap, random ones (crops, flips, rotations) that must
be drawn anew every epoch. :class:`ClipCache` stores the output of the
first part, the *cached steps* (the config's pipeline up to and including
the step named ``until``), once per sample; the
:class:`~mmemo.datasets.transforms.ClipCachePipeline` transform reads it
back and runs the rest of the pipeline every epoch. The layout::

    <cache_dir>/cache.json          version, the cached steps, their sha256
    <cache_dir>/shard_00000.npy     uint8 [nbytes]: the samples' arrays,
    <cache_dir>/shard_00000.json    one after the other; per sample its key,
                                    its files' signatures and, per array,
                                    offset, dtype and shape (or the
                                    BadSampleError that stopped it)

A shard's ``.npy`` is written first, then its ``.json``, each to a
temporary file renamed when complete: a shard without its ``.json`` is not
part of the cache, so an interrupted ``tools/data/cache_clips.py`` loses at
most the shard it was writing and resumes after the last complete one. The
arrays are memory-mapped when read (``np.load(mmap_mode='r')``): a sample
reads only its own bytes.

What a sample is: its ``filename``, ``audio_path``, ``clip_window`` and
``missing_modalities`` (:func:`sample_key`); the cache refuses a sample
whose files changed since they were cached (size or modification time,
:func:`file_signature`) and a cache made by other cached steps
(:func:`steps_fingerprint`), naming both.
"""
import copy
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmemo.utils import strict_json
from .errors import BadSampleError

CACHE_VERSION = 1
CACHE_META = 'cache.json'
#: frame samplers whose ``test_mode=False`` draws random frames: the cache
#: stores their deterministic (``test_mode=True``) sampling
SAMPLERS = ('UniformSample', 'SampleFrames', 'UniformSampleFrames')
#: keys a pipeline leaves that are not data (open files, per-call caches)
TRANSIENT_KEYS = ('video_reader', 'media_cache')
#: the data-info keys that make a sample (with the files' signatures)
KEY_FIELDS = ('filename', 'audio_path', 'clip_window', 'missing_modalities')
_ALIGN = 64  # byte alignment of each array in a shard


def step_name(step: Dict) -> str:
    """A step's class name without its scope (``'mmaction.Flip'`` ->
    ``'Flip'``)."""
    return str(step['type']).split('.')[-1]


def split_pipeline(pipeline: Sequence[Dict],
                   until: str) -> Tuple[List[Dict], List[Dict]]:
    """Split a pipeline into its cached steps and the steps run per epoch.

    The cached steps are those up to and including the first step whose
    type is ``until``; a frame sampler among them is set to its
    deterministic ``test_mode=True`` (the frame-sampling jitter of a training
    pipeline is not kept). A random clip window (``AVClipWindow(anchor=
    'random')``) cannot be cached and is refused.

    Args:
        pipeline (sequence of dict): The config's pipeline.
        until (str): The type of the last cached step, e.g.
            ``'SampleAlignedAudio'``.

    Returns:
        tuple: ``(cached, rest)``, lists of step configs.
    """
    names = [step_name(s) for s in pipeline]
    if until not in names:
        raise ValueError(f'the pipeline has no {until!r} step to cache up to '
                         f'(its steps: {", ".join(names)})')
    cut = names.index(until) + 1
    cached = copy.deepcopy([dict(s) for s in pipeline[:cut]])
    for step in cached:
        name = step_name(step)
        if name in SAMPLERS:
            step['test_mode'] = True
        if name == 'AVClipWindow' and step.get('anchor') == 'random':
            raise ValueError(
                'AVClipWindow(anchor=\'random\') draws a new window per '
                'epoch: it cannot be cached; cache up to a step before it')
    return cached, copy.deepcopy(list(pipeline[cut:]))


def steps_fingerprint(cached: Sequence[Dict]) -> str:
    """sha256 of the cached steps' settings (their configs as sorted JSON).

    Args:
        cached (sequence of dict): The cached steps (see
            :func:`split_pipeline`).

    Returns:
        str: The hex digest.
    """
    text = json.dumps([CACHE_VERSION, _jsonable(list(cached))],
                      sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_signature(path: str) -> List[int]:
    """``[size, mtime_ns]`` of a file: what tells a changed file."""
    stat = os.stat(path)
    return [int(stat.st_size), int(stat.st_mtime_ns)]


def sample_key(info: Dict) -> str:
    """The cache key of a sample: its :data:`KEY_FIELDS` as sorted JSON."""
    return json.dumps(
        {k: _jsonable(info[k])
         for k in KEY_FIELDS if info.get(k) is not None},
        sort_keys=True)


def sample_files(info: Dict) -> Dict[str, List[int]]:
    """The signatures of the files a sample reads (``filename``,
    ``audio_path``), ``{path: [size, mtime_ns]}``; a missing file is left
    out (the pipeline reports it)."""
    files = {}
    for k in ('filename', 'audio_path'):
        path = info.get(k)
        if isinstance(path, str) and osp.isfile(path):
            files[path] = file_signature(path)
    return files


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def split_sample(info: Dict, results: Dict) -> Tuple[Dict, Dict]:
    """What the cached steps added to or changed in a sample.

    Args:
        info (dict): The data info the steps started from.
        results (dict): What they returned.

    Returns:
        tuple: ``(arrays, values)``: the arrays (a list of equally shaped
        arrays, e.g. mmaction's ``imgs``, stacked) and the other values.
        ``values['__lists__']`` / ``['__tuples__']`` name the keys to turn
        back into a list / tuple.
    """
    arrays, values = {}, {}
    lists, tuples = [], []
    for key, value in results.items():
        if key in TRANSIENT_KEYS or (key in info and _same(info[key], value)):
            continue
        if isinstance(value, np.ndarray):
            arrays[key] = value
        elif (isinstance(value, list) and value
              and all(isinstance(v, np.ndarray) for v in value)):
            arrays[key] = np.stack(value)
            lists.append(key)
        else:
            if isinstance(value, tuple):
                tuples.append(key)
            value = _jsonable(value)
            try:
                json.dumps(value)
            except TypeError:
                raise TypeError(
                    f'the cached steps leave {key!r} as a '
                    f'{type(value).__name__}, which the clip cache cannot '
                    'store: cache up to an earlier step') from None
            values[key] = value
    values['__lists__'] = lists
    values['__tuples__'] = tuples
    return arrays, values


class ClipCache:
    """A folder of cached clips (see the module's docstring).

    Args:
        cache_dir (str): The cache folder.
        cached_steps (sequence of dict): The cached steps (see
            :func:`split_pipeline`); a folder made by other steps is
            refused.
    """

    def __init__(self, cache_dir: str, cached_steps: Sequence[Dict]) -> None:
        self.cache_dir = cache_dir
        self.cached_steps = _jsonable(list(cached_steps))
        self.fingerprint = steps_fingerprint(cached_steps)
        self.entries: Dict[str, Dict] = {}  # key -> entry, latest shard wins
        self.num_shards = 0
        self._shards: Dict[int, np.ndarray] = {}  # open memmaps, per process

    # ------------------------------------------------------------- reading
    def meta_path(self) -> str:
        return osp.join(self.cache_dir, CACHE_META)

    def shard_path(self, shard: int, ext: str) -> str:
        return osp.join(self.cache_dir, f'shard_{shard:05d}.{ext}')

    def check_meta(self) -> bool:
        """Refuse a folder made by other cached steps, naming both.

        Returns:
            bool: Whether the folder holds a cache (False: none yet).
        """
        path = self.meta_path()
        if not osp.exists(path):
            return False
        with open(path) as f:
            meta = json.load(f)
        if meta.get('fingerprint') != self.fingerprint:
            diff = _steps_diff(meta.get('cached_steps') or [],
                               self.cached_steps)
            raise ValueError(
                f'{self.cache_dir}: the clip cache was made by other cached '
                f'steps (sha256 {str(meta.get("fingerprint"))[:12]}, this '
                f'config\'s {self.fingerprint[:12]}): {diff}; run '
                'tools/data/cache_clips.py CONFIG --out another folder (or '
                '--overwrite)')
        return True

    def load(self) -> 'ClipCache':
        """Read the index of every complete shard.

        Returns:
            ClipCache: self.
        """
        if not self.check_meta():
            raise FileNotFoundError(
                f'{self.cache_dir}: no clip cache here (no {CACHE_META}); '
                'make it with tools/data/cache_clips.py CONFIG')
        shard = 0
        self.entries = {}
        while osp.exists(self.shard_path(shard, 'json')):
            with open(self.shard_path(shard, 'json')) as f:
                for entry in json.load(f)['samples']:
                    entry['shard'] = shard
                    self.entries[entry['key']] = entry
            shard += 1
        self.num_shards = shard
        return self

    def is_current(self, info: Dict) -> bool:
        """Whether the cache holds the sample, made from its current
        files (a bad sample counts as held)."""
        entry = self.entries.get(sample_key(info))
        return entry is not None and entry['files'] == sample_files(info)

    def read(self, info: Dict) -> Dict:
        """The cached steps' output for a sample, to update its data info
        with.

        Args:
            info (dict): The sample's data info.

        Returns:
            dict: The added or changed keys (arrays copied out of the
            memory map).
        """
        key = sample_key(info)
        entry = self.entries.get(key)
        if entry is None:
            raise KeyError(
                f'{self.cache_dir}: the clip cache has no sample {key}; run '
                'tools/data/cache_clips.py CONFIG (it adds the missing ones)')
        files = sample_files(info)
        if entry['files'] != files:
            raise ValueError(
                f'{self.cache_dir}: the sample {key} was cached from files '
                f'with [size, mtime_ns] {entry["files"]}, now they are '
                f'{files}; run tools/data/cache_clips.py CONFIG again')
        if 'bad' in entry:
            raise BadSampleError(entry['bad']['path'], entry['bad']['problem'])
        shard = self._shards.get(entry['shard'])
        if shard is None:
            shard = np.load(
                self.shard_path(entry['shard'], 'npy'), mmap_mode='r')
            self._shards[entry['shard']] = shard
        out = {k: v for k, v in entry['values'].items() if k[:2] != '__'}
        for k in entry['values']['__tuples__']:
            out[k] = tuple(out[k])
        for name, (offset, dtype, shape) in entry['arrays'].items():
            count = int(np.prod(shape))
            nbytes = count * np.dtype(dtype).itemsize
            # a writable copy, aligned for its dtype
            array = np.array(shard[offset:offset + nbytes]).view(
                np.dtype(dtype)).reshape(shape)
            if name in entry['values']['__lists__']:
                out[name] = list(array)
            else:
                out[name] = array
        return out

    # ------------------------------------------------------------- writing
    def open_for_writing(self, overwrite: bool = False) -> 'ClipCache':
        """Create the folder, or resume the complete shards of one made by
        the same steps; one made by others is refused unless
        ``overwrite`` (which removes its shards).

        Returns:
            ClipCache: self.
        """
        os.makedirs(self.cache_dir, exist_ok=True)
        try:
            exists = self.check_meta()
        except ValueError:
            if not overwrite:
                raise
            for name in os.listdir(self.cache_dir):
                if name.startswith('shard_') or name == CACHE_META:
                    os.remove(osp.join(self.cache_dir, name))
            exists = False
        if not exists:
            strict_json.dump_atomic(
                dict(
                    version=CACHE_VERSION,
                    fingerprint=self.fingerprint,
                    cached_steps=self.cached_steps),
                self.meta_path(),
                sort_keys=True)
        return self.load()

    def write_shard(self, samples: List[Dict]) -> int:
        """Write one shard (the next number) of finished samples.

        Args:
            samples (list[dict]): Each with ``key``, ``files`` and either
                ``arrays`` + ``values`` (see :func:`split_sample`) or
                ``bad`` (a :class:`BadSampleError`).

        Returns:
            int: The shard's number.
        """
        shard = self.num_shards
        chunks, index, offset = [], [], 0
        for sample in samples:
            entry = dict(key=sample['key'], files=sample['files'])
            if sample.get('bad') is not None:
                bad = sample['bad']
                entry['bad'] = dict(path=bad.path, problem=bad.problem)
            else:
                entry['values'] = sample['values']
                entry['arrays'] = {}
                for name, array in sample['arrays'].items():
                    data = np.ascontiguousarray(array).view(np.uint8).ravel()
                    entry['arrays'][name] = [
                        offset, array.dtype.str,
                        list(array.shape)
                    ]
                    pad = -len(data) % _ALIGN
                    chunks += [data, np.zeros(pad, np.uint8)]
                    offset += len(data) + pad
            index.append(entry)
        data = np.concatenate(chunks) if chunks else np.zeros(0, np.uint8)
        tmp = self.shard_path(shard, 'tmp.npy')
        np.save(tmp, data)
        os.replace(tmp, self.shard_path(shard, 'npy'))
        strict_json.dump_atomic(
            dict(fingerprint=self.fingerprint, samples=index),
            self.shard_path(shard, 'json'),
            sort_keys=True)
        for entry in index:
            entry['shard'] = shard
            self.entries[entry['key']] = entry
        self.num_shards = shard + 1
        return shard

    def disk_bytes(self) -> int:
        """Bytes the cache's files take."""
        return sum(
            osp.getsize(osp.join(self.cache_dir, n))
            for n in os.listdir(self.cache_dir)
            if (n.startswith('shard_') and '.tmp' not in n) or n == CACHE_META)

    def bad_samples(self) -> List[Dict]:
        """The samples the cached steps refused: ``key`` and ``bad``
        (``path``, ``problem``)."""
        return [
            dict(key=e['key'], bad=e['bad']) for e in self.entries.values()
            if 'bad' in e
        ]


def _steps_diff(cached: List[Dict], config: List[Dict]) -> str:
    """The steps that differ, e.g. ``step 3: cache AVClipWindow(duration=2.0)
    vs config AVClipWindow(duration=1.5)``."""

    def text(step) -> str:
        if step is None:
            return 'none'
        args = ', '.join(f'{k}={v!r}' for k, v in sorted(step.items())
                         if k != 'type')
        return f'{step.get("type")}({args})'

    lines = []
    for i in range(max(len(cached), len(config))):
        a = cached[i] if i < len(cached) else None
        b = config[i] if i < len(config) else None
        if a != b:
            lines.append(f'step {i + 1}: cache {text(a)} vs config {text(b)}')
    return '; '.join(lines) or 'the cache format differs'
