# Copyright (c) mmemo contributors. All rights reserved.
"""Reading media files with PyAV: probing, audio decoding, sanity checks.

Shared by the loading transforms (per sample, at training time) and the
dataset preparation tools (once, over a whole dataset). Every problem is
raised as :class:`BadSampleError` naming the file.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

import av
import numpy as np
import torch
import torchaudio

from .errors import BadSampleError

LFS_HEADER = b'version https://git-lfs.github.com/spec/'


def is_lfs_pointer(path: str) -> bool:
    """Whether ``path`` is a git-lfs pointer instead of the media it names.

    A clone of a repository whose media live in git-lfs (CREMA-D on GitHub)
    without ``git lfs`` holds ~130-byte text files starting with
    ``version https://git-lfs.github.com/spec/``.
    """
    if osp.getsize(path) > 1024:
        return False
    with open(path, 'rb') as f:
        return f.read(len(LFS_HEADER)) == LFS_HEADER


def check_file(path: str) -> None:
    """Raise :class:`BadSampleError` for a missing file or an LFS pointer."""
    if not osp.isfile(path):
        raise BadSampleError(path, 'file not found')
    if is_lfs_pointer(path):
        raise BadSampleError(
            path, 'is a git-lfs pointer, not media: the dataset was cloned '
            'without git-lfs (run `git lfs pull` in the dataset folder)')


def open_container(path: str) -> av.container.InputContainer:
    """Open a media file with PyAV, turning failures into BadSampleError."""
    check_file(path)
    try:
        return av.open(path)
    except av.error.FFmpegError as e:
        raise BadSampleError(path, f'cannot be opened as media ({e})') from e


@dataclass
class VideoInfo:
    """What :func:`probe_video` found out about a video file.

    Attributes:
        num_frames (int): Video frames that can be demuxed.
        fps (float): Average frame rate.
        start_time (float): Start of the video stream in the container, s.
        duration (float): ``num_frames / fps``.
        width (int), height (int): Frame size.
        has_audio (bool): Whether the container has an audio stream.
        audio_start_time (float, optional): Start of the audio stream, s.
    """
    num_frames: int
    fps: float
    start_time: float
    duration: float
    width: int
    height: int
    has_audio: bool
    audio_start_time: Optional[float] = None


def _stream_start(stream) -> float:
    if stream.start_time is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def probe_video(path: str, truncation_tolerance: float = 0.1) -> VideoInfo:
    """Count the frames of a video and check it is complete.

    The frame count comes from demuxing the packets (no decoding): headers of
    FLV and MPEG-PS files carry no frame count, and that of a truncated file
    overstates it. A file whose header promises more than
    ``truncation_tolerance`` seconds of video beyond what can be demuxed is
    reported as truncated.

    Args:
        path (str): The video file.
        truncation_tolerance (float): Allowed shortfall in seconds.

    Returns:
        VideoInfo: The facts about the file.
    """
    container = open_container(path)
    with container:
        if not container.streams.video:
            raise BadSampleError(path, 'has no video stream')
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise BadSampleError(path, 'video stream has no frame rate')
        fps = float(rate)
        num_frames = 0
        try:
            for packet in container.demux(stream):
                if packet.size:
                    num_frames += 1
        except av.error.FFmpegError as e:
            raise BadSampleError(path, f'is corrupt ({e})') from e
        if num_frames == 0:
            raise BadSampleError(path, 'has no decodable video frame')
        expected = stream.frames / fps if stream.frames else (
            container.duration / av.time_base if container.duration else 0)
        duration = num_frames / fps
        if expected - duration > truncation_tolerance:
            raise BadSampleError(
                path, f'is truncated: its header announces {expected:.2f} s '
                f'of video but only {duration:.2f} s can be read')
        audio = container.streams.audio
        return VideoInfo(
            num_frames=num_frames,
            fps=fps,
            start_time=_stream_start(stream),
            duration=duration,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            has_audio=bool(audio),
            audio_start_time=_stream_start(audio[0]) if audio else None)


def decode_audio(path: str,
                 sample_rate: Optional[int] = None,
                 mono: bool = True) -> Tuple[np.ndarray, int, float]:
    """Decode the first audio stream of a file (a wav or a video container).

    Channels are mixed down by averaging; resampling uses
    :func:`torchaudio.functional.resample`.

    Args:
        path (str): The media file.
        sample_rate (int, optional): Target rate; None keeps the file's.
        mono (bool): Mix down to one channel. Defaults to True.

    Returns:
        tuple: ``(samples, sample_rate, start_time)``: float32 samples
        ``[S]`` (mono) or ``[C, S]``, their rate, and the stream's start in
        the container in seconds.
    """
    container = open_container(path)
    with container:
        if not container.streams.audio:
            raise BadSampleError(path, 'has no audio track')
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format='fltp')
        chunks, start_time = [], None
        try:
            for frame in container.decode(stream):
                if start_time is None and frame.time is not None:
                    start_time = float(frame.time)
                chunks += [f.to_ndarray() for f in resampler.resample(frame)]
            chunks += [f.to_ndarray() for f in resampler.resample(None)]
        except av.error.FFmpegError as e:
            raise BadSampleError(path, f'audio is corrupt ({e})') from e
        rate = stream.rate
    if not chunks:
        raise BadSampleError(path, 'audio track holds no samples')
    samples = np.concatenate(chunks, axis=1)  # [C, S]
    if mono:
        samples = samples.mean(axis=0)  # [S]
    if sample_rate is not None and sample_rate != rate:
        samples = torchaudio.functional.resample(
            torch.from_numpy(np.ascontiguousarray(samples)), rate,
            sample_rate).numpy()
        rate = sample_rate
    start = _stream_start(stream) if start_time is None else start_time
    return samples.astype(np.float32), rate, start


def file_signature(path: str) -> str:
    """A short key that changes when the file changes (for caches)."""
    stat = os.stat(path)
    return f'{osp.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}'
