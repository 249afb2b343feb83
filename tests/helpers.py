# Copyright (c) mmemo contributors. All rights reserved.
"""Helpers for the tests: run mmemo's tools as subprocesses, read results.

Tests run on CPU, offline, with random-init models and generated data.
"""
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import List, Optional, Sequence, Tuple

import pytest

import mmemo  # noqa: F401  (compat shims first, as in every entry point)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(REPO, 'configs', 'toy_av.py')


def tool_env(**extra) -> dict:
    """Environment for a tool subprocess: this venv first, quiet, offline."""
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PYTHONPATH'] = REPO + (
        os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHONUNBUFFERED'] = '1'
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd: List[str],
        cwd: Optional[str] = None,
        check: bool = True,
        timeout: int = 600,
        **env) -> subprocess.CompletedProcess:
    """Run a command; on an unexpected exit code fail with its output."""
    proc = subprocess.run(
        cmd,
        cwd=cwd or REPO,
        env=tool_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} exited with {proc.returncode}:\n'
                    f'{proc.stdout[-8000:]}')
    return proc


def python_tool(script: str, *args, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python tools/<script> ARGS``."""
    return run([sys.executable,
                osp.join(REPO, 'tools', script), *args], **kwargs)


def read_val_metrics(work_dir: str, key: str = 'acc/top1') -> List[dict]:
    """Per-epoch validation metrics (the records that have ``key``) of
    every run logged in ``work_dir``."""
    records = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if key in record:
                    records.append(record)
    return records


def read_test_metrics(work_dir: str) -> dict:
    """Metrics of the latest ``tools/test.py`` run in ``work_dir``."""
    paths = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    assert paths, f'no test results in {work_dir}'
    with open(paths[-1]) as f:
        return json.load(f)


def train_then_test(config: str,
                    tmp_path,
                    checkpoint: str = 'epoch_1.pth') -> Tuple[str, str, str]:
    """Train ``config`` from ``tmp_path`` (so ``data/`` caches land there),
    then test ``checkpoint`` of its work dir.

    Returns:
        tuple: The training log, the work dir and the test work dir.
    """
    work_dir = str(tmp_path / 'work')
    log = python_tool(
        'train.py', config, '--work-dir', work_dir, cwd=str(tmp_path)).stdout
    test_dir = str(tmp_path / 'test')
    python_tool(
        'test.py',
        config,
        osp.join(work_dir, checkpoint),
        '--work-dir',
        test_dir,
        cwd=str(tmp_path))
    return log, work_dir, test_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------- media
GRID_DIR = osp.join(REPO, 'tests', 'data', 'grid')
GRID_CLIPS = ('bbaf2n', 'lwbsza', 'pwij3p', 'sbwe5n', 'id2_vcd_swwp2s')


def transcode(src: str,
              dst: str,
              video_codec: Optional[str] = 'libx264',
              audio_codec: Optional[str] = 'aac',
              sample_rate: int = 48000,
              layout: str = 'stereo',
              fmt: Optional[str] = None,
              max_seconds: Optional[float] = None,
              audio_cut: float = 0.0) -> str:
    """Re-encode a clip with PyAV, as ffmpeg would for a dataset release.

    ``video_codec=None`` writes audio only (e.g. a wav with
    ``audio_codec='pcm_s16le'``), ``audio_codec=None`` a silent video;
    ``audio_cut`` seconds are dropped from the end of the audio (real
    releases hold tracks up to 0.6 s shorter than their videos).
    """
    from fractions import Fraction

    import av
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    with av.open(src) as inp, av.open(dst, 'w', format=fmt) as out:
        streams = []
        if video_codec:
            in_video = inp.streams.video[0]
            fps = int(round(float(in_video.average_rate)))
            out_video = out.add_stream(video_codec, rate=fps)
            out_video.width = in_video.codec_context.width
            out_video.height = in_video.codec_context.height
            out_video.pix_fmt = 'yuv420p'
            out_video.codec_context.time_base = Fraction(1, fps)
            streams.append(in_video)
        if audio_codec:
            out_audio = out.add_stream(
                audio_codec, rate=sample_rate, layout=layout)
            resampler = av.AudioResampler(
                format=out_audio.codec_context.format,
                layout=layout,
                rate=sample_rate)
            streams.append(inp.streams.audio[0])
        index = samples = 0
        audio_end = float('inf')
        if audio_cut:
            stream = inp.streams.audio[0]
            audio_end = float(stream.duration * stream.time_base) - audio_cut

        def stamp(frame):
            # AAC's priming samples are trimmed (mp4 edit list) only when
            # the frames carry timestamps, as with ffmpeg
            nonlocal samples
            frame.pts, frame.time_base = samples, Fraction(1, sample_rate)
            samples += frame.samples
            return frame

        for frame in inp.decode(*streams):
            if max_seconds is not None and frame.time is not None and \
                    frame.time >= max_seconds:
                continue
            if isinstance(frame, av.VideoFrame):
                frame = frame.reformat(format='yuv420p')
                frame.pts, frame.time_base = index, Fraction(1, fps)
                index += 1
                out.mux(out_video.encode(frame))
            elif frame.time is None or frame.time < audio_end:
                frame.pts = None
                for resampled in resampler.resample(frame):
                    out.mux(out_audio.encode(stamp(resampled)))
        if video_codec:
            out.mux(out_video.encode(None))
        if audio_codec:
            for resampled in resampler.resample(None):
                out.mux(out_audio.encode(stamp(resampled)))
            out.mux(out_audio.encode(None))
    return dst


def container_set(root: str, src: str, stem: str = 'clip') -> dict:
    """A clip as the usual containers: ``mp4`` (H.264 + AAC), ``flv``
    (FLV1 + MP3 44.1 kHz), ``mkv`` (H.264, no audio track) and ``wav``
    (16 kHz mono)."""
    return dict(
        mp4=transcode(src, osp.join(root, f'{stem}.mp4')),
        flv=transcode(
            src,
            osp.join(root, f'{stem}.flv'),
            video_codec='flv',
            audio_codec='mp3',
            sample_rate=44100,
            fmt='flv'),
        mkv=transcode(
            src, osp.join(root, f'{stem}_silent.mkv'), audio_codec=None),
        wav=transcode(
            src,
            osp.join(root, f'{stem}.wav'),
            video_codec=None,
            audio_codec='pcm_s16le',
            sample_rate=16000,
            layout='mono'))


def save_random_checkpoint(path: str,
                           config: str,
                           seed: int = 0,
                           meta: Optional[dict] = None) -> str:
    """A random-init model of ``config`` (torch seeded with ``seed``) saved
    as a checkpoint (with ``meta`` when given); returns ``path``."""
    import torch

    from mmemo.apis import init_model
    torch.manual_seed(seed)
    state = dict(state_dict=init_model(config).state_dict())
    if meta is not None:
        state['meta'] = meta
    torch.save(state, path)
    return path


def media_fixture(tmp_path_factory, clip: int) -> dict:
    """The ``clip``-th GRID clip as the usual containers (see
    :func:`container_set`) in a fresh folder, with ``root``."""
    root = str(tmp_path_factory.mktemp('media'))
    return dict(container_set(root, grid_clip(clip)), root=root)


def grid_clip(index: int) -> str:
    """Path of the index-th GRID clip (cycling)."""
    name = GRID_CLIPS[index % len(GRID_CLIPS)]
    return osp.join(GRID_DIR, f'{name}.mpg')


def make_ravdess_tree(root: str,
                      stems: List[str],
                      short_audio: Sequence[int] = (),
                      audio_cut: float = 0.6) -> str:
    """RAVDESS-like release from GRID clips: for each ``stem`` (the 6 fields
    after the modality, e.g. ``01-03-01-01-01-01``) the audio-visual
    ``01-…mp4`` (H.264 + AAC 48 kHz), the silent ``02-…mp4`` and the
    audio-only ``03-…wav`` (48 kHz), in ``Actor_XX``. The audio of the
    stems at the ``short_audio`` indices is ``audio_cut`` s shorter than
    the video, as in real releases."""
    for i, stem in enumerate(stems):
        actor = osp.join(root, f'Actor_{stem[-2:]}')
        src = grid_clip(i)
        cut = audio_cut if i in short_audio else 0.0
        transcode(src, osp.join(actor, f'01-{stem}.mp4'), audio_cut=cut)
        transcode(src, osp.join(actor, f'02-{stem}.mp4'), audio_codec=None)
        transcode(
            src,
            osp.join(actor, f'03-{stem}.wav'),
            video_codec=None,
            audio_codec='pcm_s16le',
            audio_cut=cut)
    return root


def make_cremad_tree(root: str,
                     stems: List[str],
                     short_audio: Sequence[int] = (),
                     audio_cut: float = 0.6) -> str:
    """CREMA-D-like release from GRID clips: ``VideoFlash/<stem>.flv`` (FLV1
    video + MP3 44.1 kHz, as Flash video) and ``AudioWAV/<stem>.wav``
    (16 kHz mono, 16 bit); the stems at ``short_audio`` with audio
    ``audio_cut`` s shorter than the video."""
    for i, stem in enumerate(stems):
        src = grid_clip(i)
        cut = audio_cut if i in short_audio else 0.0
        transcode(
            src,
            osp.join(root, 'VideoFlash', f'{stem}.flv'),
            video_codec='flv',
            audio_codec='mp3',
            sample_rate=44100,
            fmt='flv',
            audio_cut=cut)
        transcode(
            src,
            osp.join(root, 'AudioWAV', f'{stem}.wav'),
            video_codec=None,
            audio_codec='pcm_s16le',
            sample_rate=16000,
            layout='mono',
            audio_cut=cut)
    return root
