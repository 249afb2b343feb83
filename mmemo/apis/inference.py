# Copyright (c) mmemo contributors. All rights reserved.
# The structure follows mmaction2's ``mmaction/apis/inference.py``
# (Copyright (c) OpenMMLab, Apache-2.0).
"""Inference on media files: build a model, run it on a video, a video and
a separate audio file, or an audio file alone.

:func:`init_model` builds a model from its config and loads a checkpoint;
:func:`inference_av` runs the config's *test pipeline* on one file (the way
the config's dataset would for one sample) and returns a plain dict;
:func:`inference_folder` does it for every media file of a folder.
``demo/demo_av.py`` runs :func:`inference_av` over sliding windows.
"""
import copy
import errno
import math
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import av
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import track_iter_progress

from mmemo.datasets.errors import BadSampleError
from mmemo.datasets.media import (check_file, decode_audio,
                                  open_audio_container, open_container)
from mmemo.datasets.transforms import (AVClipWindow, AVDecode, AVInit,
                                       FaceCrop, LoadAudio, PackAVInputs,
                                       SampleSubClips)
from mmemo.registry import DATASETS, TRANSFORMS
from .media_warnings import media_warnings

#: Extensions :func:`inference_folder` reads by default.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.flv', '.mkv', '.mov', '.webm', '.mpg',
                    '.mpeg', '.m4v')
AUDIO_EXTENSIONS = ('.wav', '.flac', '.mp3', '.m4a', '.aac', '.ogg')
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS

#: Nominal frame rate of the blank frames fed for an audio-only input.
AUDIO_ONLY_FPS = 25.0
#: Windows starting this many seconds or more into a video seek to their
#: first frame instead of decoding the video from its start.
SEEK_AFTER_SECONDS = 10.0
#: Size of the blank frames when the pipeline gives no crop size.
BLANK_FRAME_SIZE = (224, 224)

#: Transforms that read pre-extracted data instead of media files.
_FEATURE_LOADERS = ('LoadSubClipFeatures', 'LoadSequenceFeatures',
                    'LoadFaceFrames')

# keys of the pipeline's results that the returned dict reports
_KEPT_KEYS = ('face_boxes', 'face_detected', 'frame_inds', 'avg_fps',
              'av_window', 'video_window', 'audio_window', 'original_shape',
              'total_frames', 'video_duration')


# --------------------------------------------------------------- the model
def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a model from its config and load a checkpoint.

    The model is built in its config's default scope (``mmemo``) without
    running its ``init_weights`` (so no pretrained encoder weights are read:
    the checkpoint holds them). The checkpoint is read with mmengine's
    :func:`~mmengine.runner.load_checkpoint`, which mmemo's compat shims
    make safe (``weights_only``) and able to read ``http(s)`` URLs.

    Args:
        config (str | Path | :obj:`mmengine.Config`): Config file or object.
        checkpoint (str, optional): Checkpoint path or URL. None keeps the
            random initialisation (e.g. for tests). Defaults to None.
        device (str | torch.device): Device of the model.
            Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config, as
            ``--cfg-options`` of the tools. Defaults to None.

    Returns:
        nn.Module: The model in eval mode, with ``model.cfg`` (the config)
        and ``model.dataset_meta`` (``classes`` from the checkpoint's meta,
        else from the test dataset's config or class).
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = copy.deepcopy(config)
    else:
        raise TypeError('config must be a filename or a Config object, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    from mmemo.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    scope = config.get('default_scope', 'mmemo')
    init_default_scope(scope)
    from mmemo.registry import MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(config.model)

    meta = {}
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    model.cfg = config
    model.dataset_meta = _dataset_meta(config, meta)
    model.to(device)
    model.eval()
    return model


def _dataset_cfg(cfg: Config) -> dict:
    for name in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(name)
        if loader and loader.get('dataset'):
            dataset = loader['dataset']
            # ConcatDataset / RepeatDataset wrap the real one
            while 'dataset' in dataset and 'pipeline' not in dataset:
                dataset = dataset['dataset']
            return dataset
    return {}


def _dataset_meta(cfg: Config, ckpt_meta: dict) -> dict:
    """``classes`` from the checkpoint, the dataset config or its class."""
    meta = dict(ckpt_meta.get('dataset_meta') or {})
    classes = meta.get('classes') or ckpt_meta.get('classes') \
        or ckpt_meta.get('CLASSES')
    dataset = _dataset_cfg(cfg)
    if not classes:
        classes = dataset.get('classes') or (dataset.get('metainfo')
                                             or {}).get('classes')
    if not classes and dataset.get('type'):
        dataset_type = dataset['type']
        try:
            cls = dataset_type if isinstance(dataset_type, type) else \
                DATASETS.get(dataset_type)
        except Exception:  # an unknown or unimportable dataset class
            cls = None
        classes = (getattr(cls, 'METAINFO', None) or {}).get('classes')
    if classes:
        meta['classes'] = tuple(classes)
    return meta


# --------------------------------------------------- pipeline replacements
class _SilentAudio(BaseTransform):
    """Stands in for :class:`LoadAudio` when there is no audio: zeros over
    the whole video (the model's audio input is zeroed afterwards)."""

    def __init__(self, sample_rate: Optional[int]) -> None:
        self.sample_rate = sample_rate or 16000

    def transform(self, results: Dict) -> Dict:
        duration = results.get('video_duration') or (results['total_frames'] /
                                                     results['avg_fps'])
        samples = int(math.ceil(duration * self.sample_rate))
        results['audio'] = np.zeros(max(samples, 1), np.float32)
        results['audio_sample_rate'] = self.sample_rate
        results['audio_offset'] = 0.0
        results['audio_duration'] = duration
        return results


class _AudioOnlyInit(BaseTransform):
    """Stands in for :class:`AVInit` for an audio file: a virtual video of
    blank frames at :data:`AUDIO_ONLY_FPS` as long as the audio."""

    def __init__(self, duration: float, fps: float = AUDIO_ONLY_FPS) -> None:
        self.duration = duration
        self.fps = fps

    def transform(self, results: Dict) -> Dict:
        total = max(1, int(round(self.duration * self.fps)))
        results['video_reader'] = None
        results['total_frames'] = total
        results['avg_fps'] = self.fps
        results['video_start_time'] = 0.0
        results['video_duration'] = total / self.fps
        results['has_audio'] = True
        results['audio_offset'] = 0.0
        return results


class _BlankFrames(BaseTransform):
    """Stands in for the frame decoder (and the face crop) for an audio
    file: black frames (the model's video input is zeroed afterwards)."""

    def __init__(self, size: Tuple[int, int]) -> None:
        self.size = size  # (w, h)

    def transform(self, results: Dict) -> Dict:
        w, h = self.size
        frame = np.zeros((h, w, 3), np.uint8)
        num = len(np.asarray(results['frame_inds']).reshape(-1))
        results['imgs'] = [frame] * num
        results['original_shape'] = (h, w)
        results['img_shape'] = (h, w)
        results['video_reader'] = None
        return results


class _FixedWindow(BaseTransform):
    """:class:`AVClipWindow` at a given start: the frames whose start time
    lies in ``[start, start + duration)``, and that window for the audio."""

    def __init__(self, start: float, duration: Optional[float]) -> None:
        self.start = start
        self.duration = duration

    def transform(self, results: Dict) -> Dict:
        fps = results['avg_fps']
        total = results['total_frames']
        length = total / fps
        duration = length - self.start if self.duration is None \
            else self.duration
        first = int(math.ceil(self.start * fps - 1e-6))
        if first >= total or duration <= 0:
            raise ValueError(
                f'{results.get("filename", "?")}: the window starting at '
                f'{self.start:.3f} s lies after the end of the media '
                f'({length:.3f} s)')
        last = min(total, int(math.ceil((self.start + duration) * fps - 1e-6)))
        results['av_window'] = (self.start, self.start + duration)
        results['start_index'] = results['start_index'] + first
        results['total_frames'] = max(1, last - first)
        return results


class _SeekingDecode(BaseTransform):
    """:class:`AVDecode` that seeks to the key frame before the first
    sampled frame instead of decoding from the start of the file, for
    windows far into a long video (the demo's sliding windows would
    otherwise decode the video from its start for every window).

    A frame's index is the rank of its timestamp among the timestamps of all
    the video's packets (demuxed once, without decoding, and kept in
    ``cache``): the index :class:`AVDecode` counts, also where timestamps
    have gaps. When a frame has no known timestamp or the frames after the
    seek do not count up one by one from at most the first wanted index, it
    falls back to :class:`AVDecode`'s sequential decoding.
    """

    def __init__(self, inner: AVDecode, min_seconds: float,
                 cache: Optional[dict]) -> None:
        self.inner = inner
        self.min_seconds = min_seconds
        self.cache = {} if cache is None else cache

    def _ranks(self, filename: str) -> Optional[Tuple[list, dict]]:
        key = ('pts', filename)
        if key not in self.cache:
            table = None
            with open_container(filename) as container:
                pts = [
                    p.pts for p in container.demux(container.streams.video[0])
                    if p.size
                ]
            if pts and None not in pts:
                pts = sorted(pts)
                table = (pts, {v: i for i, v in enumerate(pts)})
            self.cache[key] = table
        return self.cache[key]

    def _seek(self, results: Dict, wanted: set) -> Optional[Dict]:
        table = self._ranks(results['filename'])
        first, last = min(wanted), max(wanted)
        if table is None or last >= len(table[0]):
            return None
        pts, rank = table
        container = results['video_reader']
        stream = container.streams.video[0]
        container.seek(pts[first], stream=stream, backward=True)
        decoded, previous = {}, None
        for frame in container.decode(stream):
            index = rank.get(frame.pts)
            if index is None or (previous is None and index > first) or (
                    previous is not None and index != previous + 1):
                return None
            previous = index
            if index in wanted:
                decoded[index] = frame.to_ndarray(format='rgb24')
            if index >= last:
                break
        return decoded if len(decoded) == len(wanted) else None

    def transform(self, results: Dict) -> Dict:
        inds = np.asarray(results['frame_inds']).reshape(-1)
        wanted = set(int(i) for i in inds)
        if min(wanted) < self.min_seconds * float(results['avg_fps']):
            return self.inner(results)
        try:
            decoded = self._seek(results, wanted)
        except av.error.FFmpegError:
            decoded = None
        results['video_reader'].close()
        if decoded is None:
            results['video_reader'] = open_container(results['filename'])
            return self.inner(results)
        results['imgs'] = [decoded[int(i)] for i in inds]
        results['original_shape'] = results['imgs'][0].shape[:2]
        results['img_shape'] = results['imgs'][0].shape[:2]
        results['video_reader'] = None
        return results


class _Cached(BaseTransform):
    """Reuse a transform's output keys across calls on the same file.

    ``AVInit`` probes by demuxing the whole file and ``LoadAudio`` decodes
    and resamples the whole track; the sliding windows of the demo would
    repeat both for every window. The open video container is not cached
    (it is consumed by the decoder): it is opened anew.
    """

    def __init__(self, inner, cache: dict, key: tuple) -> None:
        self.inner = inner
        self.cache = cache
        self.key = key

    def transform(self, results: Dict) -> Dict:
        cached = self.cache.get(self.key)
        if cached is None:
            before = set(results)
            old_report = dict(results.get('media_report') or {})
            out = self.inner(results)
            stored = {
                k: v
                for k, v in out.items()
                if (k not in before or k == 'audio_offset')
                and k not in ('video_reader', 'media_report')
            }
            # the report entries it added (a fresh dict per call)
            added = {
                k: v
                for k, v in (out.get('media_report') or {}).items()
                if k not in old_report or old_report[k] is not v
            }
            self.cache[self.key] = (stored, added)
            return out
        stored, added = cached
        results.update(stored)
        results['media_report'] = dict(
            results.get('media_report') or {}, **added)
        if isinstance(self.inner, AVInit):
            results['video_reader'] = open_container(results['filename'])
        return results


# ------------------------------------------------------------ media checks
def check_media(path: str, what: str) -> Tuple[bool, bool]:
    """Whether a file has a video and an audio stream; errors name it.

    Args:
        path (str): The media file.
        what (str): What the file is, for the error messages.

    Returns:
        tuple[bool, bool]: Whether it has a video and an audio stream.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f'{what} must be a path, got {type(path).__name__}')
    path = str(path)
    if not osp.lexists(path):
        raise FileNotFoundError(errno.ENOENT, f'{what}: file not found', path)
    check_file(path)  # a directory, a FIFO, a broken link, a git-lfs pointer
    # a PCM WAV opens without FFmpeg's stream probing (tens of ms)
    container = open_audio_container(path)
    with container:
        has_video = bool(container.streams.video)
        has_audio = bool(container.streams.audio)
    if not has_video and not has_audio:
        raise BadSampleError(path, 'has neither a video nor an audio stream')
    return has_video, has_audio


def media_duration(path: str) -> float:
    """Duration of a media file's audio (or whole container), seconds."""
    container = open_container(path)
    with container:
        streams = container.streams.audio or container.streams.video
        stream = streams[0] if streams else None
        if stream is not None and stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return container.duration / av.time_base
    samples, rate, _ = decode_audio(path)
    return len(samples) / rate


def _type_name(cfg) -> str:
    t = cfg.get('type') if isinstance(cfg, dict) else type(cfg).__name__
    name = t if isinstance(t, str) else getattr(t, '__name__', str(t))
    return name.rsplit('.', 1)[-1]


def media_pipeline_cfg(cfg: Config) -> List[dict]:
    """The test pipeline of a config (its test dataset's, else
    ``test_pipeline``), checked to start from media files.

    Args:
        cfg (:obj:`mmengine.Config`): The model's config.

    Returns:
        list[dict]: The pipeline's transform configs.

    Raises:
        ValueError: The config has no test pipeline, or its pipeline reads
            pre-extracted features or face-image folders, not media files.
    """
    pipeline = _dataset_cfg(cfg).get('pipeline') or cfg.get('test_pipeline')
    name = getattr(cfg, 'filename', None) or 'the config'
    if not pipeline:
        raise ValueError(f'{name} has no test pipeline '
                         '(test_dataloader.dataset.pipeline)')
    types = [_type_name(t) for t in pipeline]
    loaders = [t for t in types if t in _FEATURE_LOADERS]
    if loaders or 'AVInit' not in types:
        what = f'reads {loaders[0]}' if loaders else \
            f'starts with {types[0]}, not AVInit'
        raise ValueError(
            f'{name}: its test pipeline {what}: the model reads pre-extracted '
            'features, face-image folders or generated tensors, not media '
            'files. inference_av needs a pipeline that starts from AVInit on '
            'a video (e.g. configs/avtca_synth.py, avtca_ravdess.py, '
            'avtca_cremad.py, cfnsr_*.py, concat_synth_va.py). Extract the '
            'features first (tools/misc/extract_va_features.py) or use the '
            'config of the model that reads the media.')
    for t in pipeline:
        targets = t.get('targets') if isinstance(
            t, dict) and _type_name(t) == 'PackAVInputs' else None
        other = set(targets or {}) - {'gt_va', 'va_mask'}
        if other:
            raise ValueError(
                f'{name}: the model is trained on the targets '
                f'{sorted(other)} (e.g. CMU-MOSEI sentiment scores); '
                'inference_av supports class labels and valence/arousal')
    return list(pipeline)


def _built_pipeline(model: nn.Module) -> List[BaseTransform]:
    """The model's test transforms, built once and kept on the model."""
    built = getattr(model, '_mmemo_test_transforms', None)
    if built is None:
        cfg = model.cfg
        pipeline = media_pipeline_cfg(cfg)
        scope = cfg.get('default_scope', 'mmemo')
        with DefaultScope.overwrite_default_scope(scope):
            built = [TRANSFORMS.build(copy.deepcopy(t)) for t in pipeline]
        model._mmemo_test_transforms = built
    return built


def _blank_size(transforms: Sequence) -> Tuple[int, int]:
    for t in transforms:
        if isinstance(t, FaceCrop) and t.output_size is not None:
            return tuple(t.output_size)
    return BLANK_FRAME_SIZE


def _source(video_path: str, audio_path: Optional[str]) -> dict:
    """What the inputs hold: the streams, the files and the modalities."""
    has_video, has_audio = check_media(video_path, 'video_path')
    separate = None
    if audio_path is not None:
        _, audio_in_file = check_media(audio_path, 'audio_path')
        if not audio_in_file:
            raise BadSampleError(str(audio_path), 'has no audio track')
        separate = str(audio_path)
    if not has_video:
        # an audio file given as the "video"
        return dict(
            video=None,
            audio=separate or str(video_path),
            modalities=['audio'])
    audio = separate or (str(video_path) if has_audio else None)
    return dict(
        video=str(video_path),
        audio=audio,
        separate_audio=separate,
        modalities=['video', 'audio'] if audio else ['video'])


def _transforms_for(model: nn.Module,
                    source: dict,
                    start: Optional[float],
                    duration: Optional[float],
                    cache: Optional[dict],
                    seek: bool = False) -> List:
    """The test transforms with the replacements a call needs."""
    built = _built_pipeline(model)
    audio_only = source['video'] is None
    no_audio = source['audio'] is None
    window = None if start is None and duration is None else \
        (start, duration)
    out, has_window = [], False
    file_key = (source['video'], source['audio'])
    for t in built:
        if isinstance(t, AVInit):
            if audio_only:
                t = _AudioOnlyInit(media_duration(source['audio']))
            elif cache is not None:
                t = _Cached(t, cache, file_key + ('init', id(t)))
            out.append(t)
            continue
        if isinstance(t, LoadAudio):
            if no_audio:
                t = _SilentAudio(t.sample_rate)
            elif cache is not None:
                t = _Cached(t, cache, file_key + ('audio', id(t)))
        elif isinstance(t, AVClipWindow):
            has_window = True
            if window is not None:
                t = _FixedWindow(
                    0.0 if start is None else start,
                    duration if duration is not None else t.duration)
        elif isinstance(t, AVDecode) or type(t).__name__ in ('PyAVDecode',
                                                             'DecordDecode',
                                                             'OpenCVDecode'):
            if audio_only:
                t = _BlankFrames(_blank_size(built))
            elif isinstance(t, AVDecode) and (seek or start):
                t = _SeekingDecode(t, SEEK_AFTER_SECONDS, cache)
        elif isinstance(t, FaceCrop) and audio_only:
            continue
        out.append(t)
    if window is not None and not has_window:
        # no AVClipWindow: narrow the frames (and audio) right after AVInit
        first = next(i for i, t in enumerate(out)
                     if isinstance(t, (AVInit, _AudioOnlyInit, _Cached))
                     and not isinstance(getattr(t, 'inner', None), LoadAudio))
        out.insert(first + 1,
                   _FixedWindow(0.0 if start is None else start, duration))
    return out


def _run(transforms: Sequence, results: dict) -> Tuple[dict, dict]:
    """Apply the transforms; also return the keys seen before packing."""
    kept = {}
    for t in transforms:
        if isinstance(t, PackAVInputs):
            kept = {k: results[k] for k in _KEPT_KEYS if k in results}
        results = t(results)
        if results is None:
            raise RuntimeError(f'{t!r} dropped the sample')
    if not kept:
        kept = {k: results[k] for k in _KEPT_KEYS if k in results}
    return results, kept


def _forward(model: nn.Module, samples: List[dict],
             missing: Sequence[str]) -> list:
    """Preprocess, zero the missing modalities, predict."""
    data = pseudo_collate(samples)
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
        inputs = data['inputs']
        for name in missing:
            if isinstance(inputs, dict) and name in inputs:
                # as the modality dropout the models were trained with
                inputs[name] = torch.zeros_like(inputs[name])
        return model(**data, mode='predict')


def _to_list(x) -> list:
    return [float(v) for v in np.asarray(x, dtype=np.float64).reshape(-1)]


def _probabilities(model: nn.Module, score: torch.Tensor) -> torch.Tensor:
    score = score.detach().float().cpu().reshape(-1)
    head = getattr(model, 'cls_head', None)
    if getattr(head, 'average_clips', None) == 'prob':
        return score / score.sum().clamp_min(1e-12)
    return F.softmax(score, dim=0)


def _classification(model: nn.Module, sample, source: dict) -> dict:
    pred = sample.get('pred_score')
    if pred is None:
        raise ValueError(f'{type(model).__name__} returned no pred_score: '
                         'inference_av supports classification and '
                         'valence/arousal models')
    modality_scores = None
    if isinstance(pred, dict):
        modality_scores = {
            k: _to_list(_probabilities(model, v))
            for k, v in pred.items()
        }
        used = source['modalities']
        # a modality alone: the model's own score of that modality (the
        # other zeroed as in training), else the fusion of zeroed input
        key = used[0] if len(used) == 1 and used[0] in pred else 'fusion'
        probs = modality_scores.get(key) or modality_scores[next(iter(pred))]
    else:
        key = 'fusion'
        probs = _to_list(_probabilities(model, pred))
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
    return out


def _base_results(source: dict) -> dict:
    results = dict(
        filename=source['video'] or source['audio'],
        start_index=0,
        modality='AV')
    if source['video'] is None or source.get('separate_audio'):
        results['audio_path'] = source['audio']
    return results


def _missing(source: dict) -> List[str]:
    return [m for m in ('video', 'audio') if m not in source['modalities']]


def inference_av(model: nn.Module,
                 video_path: str,
                 audio_path: Optional[str] = None,
                 start: Optional[float] = None,
                 duration: Optional[float] = None,
                 media_cache: Optional[dict] = None) -> dict:
    """Run a model on one media file with its config's test pipeline.

    The sample is built as the config's dataset builds one
    (``filename``, ``audio_path`` for a separate audio file), so the
    pipeline's own steps run: frame sampling in its window, face crop where
    the config has ``FaceCrop``, aligned audio features, packing.

    A missing modality (a video without an audio track, or an audio file
    alone) is fed as zeros at the shape the pipeline produces, after the
    data preprocessor: what the models' modality dropout trains on. When
    the model scores each modality alone (``test_cfg.modality_scores``), the
    present modality's own score is reported (``score_source``).

    Args:
        model (nn.Module): A model from :func:`init_model`.
        video_path (str): A video (with or without an audio track) or an
            audio-only file (e.g. a wav).
        audio_path (str, optional): A separate audio file, used instead of
            the video's own track (RAVDESS / CREMA-D style).
            Defaults to None.
        start (float, optional): Start of the window to classify, seconds
            from the first frame. None: the config's own window (e.g.
            AVT-CA's centred 3.6 s) or the whole file. Defaults to None.
        duration (float, optional): Length of that window in seconds; None
            takes the config's window length (``AVClipWindow``) or the rest
            of the file. Defaults to None.
        media_cache (dict, optional): A dict kept by the caller across
            calls on the same files, so that the video is probed and the
            audio decoded once (sliding windows). Defaults to None.

    Returns:
        dict: ``task`` (``'classification'`` or ``'valence_arousal'``),
        ``file``, ``modalities`` (the streams used), ``window``
        (``[start_s, end_s]``). Classification: ``classes``, ``scores``
        (probabilities summing to 1), ``label``, ``label_index``,
        ``score_source`` and, when the model scores each modality,
        ``modality_scores``; ``face_boxes`` (``[x1, y1, x2, y2]`` per
        sampled frame, in the original frame's pixels) when the pipeline
        crops faces; ``frame_times`` (s) of the sampled frames.
        Valence/arousal: per-frame ``times`` (s), ``valence``, ``arousal``.
        Both: ``warnings``, a list of sentences about the input (a still
        image, a single frame, audio much shorter than the window, no face
        found, repairs of damaged or mismatched tracks; see
        :func:`~mmemo.apis.media_warnings.media_warnings`).

    Raises:
        FileNotFoundError: A file does not exist (the message names it).
        BadSampleError: A file cannot be read (the message names it).
        ValueError: The config's pipeline does not read media files.
    """
    if not hasattr(model, 'cfg'):
        raise ValueError('the model has no cfg: build it with init_model')
    transforms_cfg = media_pipeline_cfg(model.cfg)
    source = _source(video_path, audio_path)
    if any(_type_name(t) == 'SampleSubClips' for t in transforms_cfg):
        result = _inference_va(model, source, start, duration, media_cache)
    else:
        transforms = _transforms_for(model, source, start, duration,
                                     media_cache)
        packed, kept = _run(transforms, _base_results(source))
        report = packed['data_samples'].metainfo.get('media_report') or {}
        sample = _forward(model, [packed], _missing(source))[0]
        result = _classification(model, sample, source)
        window = kept.get('av_window') or kept.get('video_window')
        if window is None and kept.get('total_frames'):
            window = (0.0, kept['total_frames'] / kept['avg_fps'])
        result['window'] = [float(window[0]), float(window[1])] \
            if window is not None else None
        if 'frame_inds' in kept and source['video'] is not None:
            fps = float(kept['avg_fps'])
            result['frame_times'] = _to_list(
                np.asarray(kept['frame_inds']).reshape(-1) / fps)
            if 'face_boxes' in kept:
                result['face_boxes'] = np.asarray(
                    kept['face_boxes'], np.float64).reshape(-1, 4).tolist()
                if 'face_detected' in kept:
                    result['face_detected'] = [
                        bool(v) for v in np.asarray(kept['face_detected'])
                    ]
        result['warnings'] = media_warnings(report, result['window'],
                                            source['modalities'])
    result['file'] = source['video'] or source['audio']
    if source.get('separate_audio'):
        result['audio_file'] = source['separate_audio']
    result['modalities'] = list(source['modalities'])
    return _ordered(result)


def _ordered(result: dict) -> dict:
    first = ('file', 'audio_file', 'task', 'modalities', 'window', 'label',
             'label_index', 'classes', 'scores')
    out = {k: result[k] for k in first if k in result}
    out.update({k: v for k, v in result.items() if k not in out})
    return out


# ----------------------------------------------------------- valence/arousal
def _inference_va(model: nn.Module, source: dict, start: Optional[float],
                  duration: Optional[float],
                  media_cache: Optional[dict]) -> dict:
    """Dense per-frame valence/arousal over a window, as the VA sets' test
    windows: blocks of ``seq_len * sub_clip_stride`` frames, every offset,
    so every frame is the target of exactly one sub-clip."""
    dataset = _dataset_cfg(model.cfg)
    seq_len = int(dataset.get('seq_len', 16))
    stride = int(dataset.get('sub_clip_stride', 32))
    cache = {} if media_cache is None else media_cache
    transforms = _transforms_for(model, source, None, None, cache, seek=True)
    if not any(isinstance(t, SampleSubClips) for t in transforms):
        raise ValueError('the valence/arousal pipeline needs SampleSubClips')
    # the length and rate of the (virtual) video, from the init step
    probe = dict(_base_results(source))
    for t in transforms:
        probe = t(probe)
        if isinstance(t, (AVInit, _AudioOnlyInit)) or isinstance(
                getattr(t, 'inner', None), AVInit):
            break
    if probe.get('video_reader') is not None:
        probe['video_reader'].close()
    fps, total = float(probe['avg_fps']), int(probe['total_frames'])
    t0 = 0.0 if start is None else float(start)
    t1 = total / fps if duration is None else t0 + float(duration)
    f0 = int(math.ceil(t0 * fps - 1e-6))
    f1 = min(total, int(math.ceil(t1 * fps - 1e-6)))
    if f0 >= f1:
        raise ValueError(f'{source["video"] or source["audio"]}: the window '
                         f'[{t0:.3f}, {t1:.3f}) s holds no frame of the '
                         f'{total / fps:.3f} s media')
    stem = osp.splitext(osp.basename(probe['filename']))[0]
    values = np.full((f1 - f0, 2), np.nan, np.float32)
    block = seq_len * stride
    report = {}
    for b0 in range(f0, f1, block):
        samples, targets = [], []
        for offset in range(stride):
            ends = b0 + offset + stride * np.arange(seq_len)
            ends = np.where(ends < f1, ends, -1).astype(np.int64)
            if (ends < 0).all():
                continue
            results = dict(
                _base_results(source),
                video_id=stem,
                target_frames=ends,
                gt_va=np.full((seq_len, 2), -5.0, np.float32),
                va_mask=np.zeros(seq_len, np.bool_),
                num_frames=total,
                fps=fps)
            packed, _ = _run(transforms, results)
            report = packed['data_samples'].metainfo.get('media_report', {})
            samples.append(packed)
            targets.append(ends)
        preds = _forward(model, samples, _missing(source))
        for ends, sample in zip(targets, preds):
            pred = sample.get('pred_va')
            if pred is None:
                raise ValueError(f'{type(model).__name__} returned no '
                                 'pred_va')
            pred = pred.detach().float().cpu().numpy().reshape(-1, 2)
            real = ends >= 0
            values[ends[real] - f0] = pred[real]
    frames = np.arange(f0, f1)
    return dict(
        task='valence_arousal',
        window=[f0 / fps, f1 / fps],
        times=_to_list(frames / fps),
        valence=_to_list(values[:, 0]),
        arousal=_to_list(values[:, 1]),
        fps=fps,
        warnings=media_warnings(report, [f0 / fps, f1 / fps],
                                source['modalities']))


# ------------------------------------------------------------------ folders
def _companion_audio(path: str, audio_folder: Optional[str]) -> Optional[str]:
    if audio_folder is None:
        return None
    stem = osp.splitext(osp.basename(path))[0]
    for ext in AUDIO_EXTENSIONS:
        candidate = osp.join(audio_folder, stem + ext)
        if osp.isfile(candidate):
            return candidate
    return None


def inference_folder(model: nn.Module,
                     folder: str,
                     extensions: Sequence[str] = MEDIA_EXTENSIONS,
                     audio_folder: Optional[str] = None,
                     recursive: bool = False,
                     skip_errors: bool = False,
                     show_progress: bool = True) -> List[dict]:
    """Run :func:`inference_av` on every media file of a folder.

    Args:
        model (nn.Module): A model from :func:`init_model`.
        folder (str): The folder.
        extensions (sequence of str): File extensions to read (case
            insensitive). Defaults to :data:`MEDIA_EXTENSIONS` (common video
            and audio containers).
        audio_folder (str, optional): A folder of separate audio files:
            ``<stem>.wav`` (or another audio extension) there is the audio
            of ``<stem>.<ext>`` in ``folder``. Defaults to None.
        recursive (bool): Also read sub-folders. Defaults to False.
        skip_errors (bool): Record a file that fails as ``{'file': ...,
            'error': message}`` instead of stopping. Defaults to False.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        list[dict]: One result per file (sorted by path), each with its
        ``file``.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder {folder!r}: not a directory')
    exts = tuple(e.lower() if e.startswith('.') else '.' + e.lower()
                 for e in extensions)
    files = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        files += [
            osp.join(root, n) for n in names
            if osp.splitext(n)[1].lower() in exts
        ]
        if not recursive:
            break
    files.sort()
    if audio_folder is not None and osp.abspath(audio_folder) == \
            osp.abspath(folder):
        # the audio files are companions, not inputs of their own
        files = [f for f in files if not f.lower().endswith(AUDIO_EXTENSIONS)]
    results = []
    iterator = track_iter_progress(files) if show_progress and files \
        else files
    for path in iterator:
        try:
            result = inference_av(model, path,
                                  _companion_audio(path, audio_folder))
        except (OSError, RuntimeError, ValueError) as e:
            if not skip_errors:
                raise
            result = dict(error=str(e))
        result['file'] = path
        results.append(_ordered(result))
    return results
