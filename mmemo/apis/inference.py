# Copyright (c) mmemo contributors. All rights reserved.
# The structure follows mmaction2's ``mmaction/apis/inference.py``
# (Copyright (c) OpenMMLab, Apache-2.0).
"""Inference on media files, as functions over :class:`AVInferencer`.

:func:`init_model` builds a model from its config and loads a checkpoint;
:func:`inference_av` runs the config's *test pipeline* on one file (the way
the config's dataset would for one sample) and returns a plain dict;
:func:`inference_folder` does it for every media file of a folder.
``demo/demo_av.py`` runs :func:`inference_av` over sliding windows.
"""
import os
import os.path as osp
import weakref
from pathlib import Path
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config

from .inferencers import AVInferencer

#: Extensions :func:`inference_folder` reads by default.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.flv', '.mkv', '.mov', '.webm', '.mpg',
                    '.mpeg', '.m4v')
AUDIO_EXTENSIONS = ('.wav', '.flac', '.mp3', '.m4a', '.aac', '.ogg')
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS

# the inferencer of each model built by init_model (not stored on the model)
_INFERENCERS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a model from its config and load a checkpoint.

    The model is built in its config's default scope (``mmemo``) without
    running its ``init_weights`` (so no pretrained encoder weights are read:
    the checkpoint holds them). The checkpoint goes through mmemo's one
    restricted loader (:mod:`mmemo.checkpoint`), local or ``http(s)``.

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
        else from the test dataset).

    Raises:
        ValueError: The config's test pipeline does not read media files
            (features, face-image folders) or its model predicts other
            targets (e.g. CMU-MOSEI sentiment): build such models with
            ``MODELS.build(cfg.model)``.
    """
    if isinstance(config, Path):
        config = str(config)
    elif not isinstance(config, (str, Config)):
        raise TypeError('config must be a filename or a Config object, got '
                        f'{type(config).__name__}')
    inferencer = AVInferencer(
        config, checkpoint, device=str(device), cfg_options=cfg_options)
    _INFERENCERS[inferencer.model] = inferencer
    return inferencer.model


def _inferencer(model: nn.Module) -> AVInferencer:
    """The inferencer of a model (built once per model)."""
    inferencer = _INFERENCERS.get(model)
    if inferencer is None:
        inferencer = _INFERENCERS[model] = AVInferencer(model)
    return inferencer


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
        dict: See :meth:`AVInferencer.postprocess`.

    Raises:
        FileNotFoundError: A file does not exist (the message names it).
        BadSampleError: A file cannot be read (the message names it).
        ValueError: The config's pipeline does not read media files.
    """
    item = dict(
        video=video_path, audio=audio_path, start=start, duration=duration)
    return _inferencer(model)([item],
                              media_cache=media_cache)['predictions'][0]


def media_files(folder: str,
                extensions: Sequence[str] = MEDIA_EXTENSIONS,
                recursive: bool = False) -> List[str]:
    """The media files of a folder, sorted by path.

    Args:
        folder (str): The folder.
        extensions (sequence of str): File extensions to read (case
            insensitive). Defaults to :data:`MEDIA_EXTENSIONS`.
        recursive (bool): Also read sub-folders. Defaults to False.

    Returns:
        list[str]: The paths.
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
    return sorted(files)


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
    files = media_files(folder, extensions, recursive)
    if audio_folder is not None and osp.abspath(audio_folder) == \
            osp.abspath(folder):
        # the audio files are companions, not inputs of their own
        files = [f for f in files if not f.lower().endswith(AUDIO_EXTENSIONS)]
    items = [
        dict(video=f, audio=_companion_audio(f, audio_folder)) for f in files
    ]
    inferencer = _inferencer(model)
    inferencer.show_progress = show_progress
    try:
        results = inferencer(items, skip_errors=skip_errors)['predictions']
    finally:
        inferencer.show_progress = False
    for path, result in zip(files, results):
        result['file'] = path
    return results
