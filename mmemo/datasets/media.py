# Copyright (c) mmemo contributors. All rights reserved.
"""Reading media files with PyAV: probing, audio decoding, sanity checks.

Shared by the loading transforms (per sample, at training time) and the
dataset preparation tools (once, over a whole dataset). Every problem is
raised as :class:`BadSampleError` naming the file.
"""
import errno
import functools
import math
import os
import os.path as osp
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

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


def path_problem(path: str, what: str = 'a media file') -> Optional[str]:
    """What keeps ``path`` from being read as a file, in words (None for a
    readable regular file).

    A directory, a FIFO (which FFmpeg would wait on forever), a socket or a
    device is named as such, and so is a broken symbolic link.

    Args:
        path (str): The path.
        what (str): What it should be, for the message.

    Returns:
        str or None: E.g. ``'is a directory, not a media file'``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if osp.islink(path):
            return f'is a broken symbolic link (to {os.readlink(path)!r})'
        return 'file not found'
    except OSError as e:
        return f'cannot be read ({e.strerror})'
    mode = info.st_mode
    for test, kind in ((stat.S_ISDIR, 'a directory'), (stat.S_ISFIFO,
                                                       'a FIFO (named pipe)'),
                       (stat.S_ISSOCK, 'a socket'), (stat.S_ISCHR,
                                                     'a character device'),
                       (stat.S_ISBLK, 'a block device')):
        if test(mode):
            return f'is {kind}, not {what}'
    if not stat.S_ISREG(mode):
        return 'is not a regular file'
    if not os.access(path, os.R_OK):
        return 'cannot be read (permission denied)'
    if info.st_size == 0:
        return 'is empty (0 bytes)'
    return None


def check_file(path: str) -> None:
    """Raise :class:`BadSampleError` for a path that is not a readable
    media file (missing, a directory, a FIFO, a broken link, empty, ...)
    or that is a git-lfs pointer."""
    problem = path_problem(path)
    if problem is not None:
        raise BadSampleError(path, problem)
    if is_lfs_pointer(path):
        raise BadSampleError(
            path, 'is a git-lfs pointer, not media: the dataset was cloned '
            'without git-lfs (run `git lfs pull` in the dataset folder)')


def open_container(
        path: str,
        options: Optional[dict] = None) -> av.container.InputContainer:
    """Open a media file with PyAV, turning failures into BadSampleError.

    ``options`` are FFmpeg format options (e.g. ``probesize``).
    """
    check_file(path)
    try:
        return av.open(path, options=options) if options else av.open(path)
    except av.error.FFmpegError as e:
        raise BadSampleError(path, f'cannot be opened as media ({e})') from e


#: FFmpeg options for opening a PCM WAV file: its header describes the
#: stream completely, while FFmpeg's default stream probing reads and parses
#: the file's packets (about 40 ms for 3 s of 48 kHz stereo, more than
#: decoding it).
WAV_OPEN_OPTIONS = {'probesize': '32', 'analyzeduration': '0'}


def is_wav_file(path: str) -> bool:
    """Whether ``path`` starts with a RIFF (or RF64) WAVE header."""
    try:
        with open(path, 'rb') as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] in (b'RIFF', b'RF64') and head[8:12] == b'WAVE'


def open_audio_container(path: str) -> av.container.InputContainer:
    """Open a file to decode its audio: a PCM WAV file without FFmpeg's
    stream probing (same samples, a fraction of the time), anything else
    (or a WAV whose header leaves the stream undetermined) as usual."""
    if is_wav_file(path):
        container = open_container(path, WAV_OPEN_OPTIONS)
        audio = container.streams.audio
        ctx = audio[0].codec_context if audio else None
        if ctx is not None and ctx.name.startswith('pcm_') and ctx.rate \
                and ctx.channels:
            return container
        container.close()
    return open_container(path)


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
        codec (str): The video decoder's name.
        frame_pts (list[int], optional): The sorted timestamps of the
            frames' packets (a frame's index is the rank of its timestamp);
            None when some packet has none or two share one.
        demux_error (str, optional): The read error that ended the file
            early (FFmpeg stops reading there, so does mmemo).
    """
    num_frames: int
    fps: float
    start_time: float
    duration: float
    width: int
    height: int
    has_audio: bool
    audio_start_time: Optional[float] = None
    codec: str = ''
    frame_pts: Optional[List[int]] = None
    demux_error: Optional[str] = None


def _stream_start(stream) -> float:
    if stream.start_time is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


class Demuxer:
    """The packets of one stream, ended (as ``ffmpeg`` ends an input) by a
    read error of the container, which is kept in :attr:`error`.

    Args:
        container (av.container.InputContainer): The open file.
        stream: The stream to demux.
    """

    def __init__(self, container, stream) -> None:
        self._packets = container.demux(stream)
        self.error: Optional[str] = None

    def __iter__(self):
        while True:
            try:
                packet = next(self._packets)
            except StopIteration:
                return
            except av.error.FFmpegError as e:
                self.error = str(e).split(';')[0]
                return
            yield packet


def probe_video(path: str, truncation_tolerance: float = 0.1) -> VideoInfo:
    """Count the frames of a video and check it is complete.

    The frame count comes from demuxing the packets (no decoding): headers of
    FLV and MPEG-PS files carry no frame count, and that of a truncated file
    overstates it. A read error ends the file there (as in ``ffmpeg``). A
    file whose header promises more than ``truncation_tolerance`` seconds
    of video beyond what can be demuxed is reported as truncated.

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
        if not rate or not math.isfinite(float(rate)) or float(rate) <= 0:
            raise BadSampleError(path, 'video stream has no frame rate')
        fps = float(rate)
        packets = Demuxer(container, stream)
        pts = [packet.pts for packet in packets if packet.size]
        demux_error = packets.error
        num_frames = len(pts)
        if num_frames == 0:
            raise BadSampleError(
                path, 'has no decodable video frame' +
                (f' ({demux_error})' if demux_error else ''))
        expected = stream.frames / fps if stream.frames else (
            container.duration / av.time_base if container.duration else 0)
        duration = num_frames / fps
        if expected - duration > truncation_tolerance:
            why = f' (FFmpeg: {demux_error})' if demux_error else ''
            raise BadSampleError(
                path, f'is truncated: its header announces {expected:.2f} s '
                f'of video but only {duration:.2f} s can be read{why}')
        unique = None not in pts and len(set(pts)) == len(pts)
        audio = container.streams.audio
        return VideoInfo(
            num_frames=num_frames,
            fps=fps,
            start_time=_stream_start(stream),
            duration=duration,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            has_audio=bool(audio),
            audio_start_time=_stream_start(audio[0]) if audio else None,
            codec=stream.codec_context.name,
            frame_pts=sorted(pts) if unique else None,
            demux_error=demux_error)


@functools.lru_cache(maxsize=16)
def _sinc_kernel(orig_freq: int, new_freq: int, dtype: torch.dtype) -> tuple:
    """torchaudio's resampling kernel (its default settings) on the CPU."""
    from torchaudio.functional.functional import _get_sinc_resample_kernel
    gcd = math.gcd(orig_freq, new_freq)
    return _get_sinc_resample_kernel(orig_freq, new_freq, gcd, 6, 0.99,
                                     'sinc_interp_hann', None,
                                     torch.device('cpu'), dtype)


def resample(waveform: torch.Tensor, orig_freq: int,
             new_freq: int) -> torch.Tensor:
    """:func:`torchaudio.functional.resample` with its default settings,
    the windowed-sinc kernel computed once per pair of rates (it costs as
    much as resampling a few seconds). Same output."""
    if orig_freq == new_freq:
        return waveform
    try:
        from torchaudio.functional.functional import \
            _apply_sinc_resample_kernel
        kernel, width = _sinc_kernel(
            int(orig_freq), int(new_freq), waveform.dtype)
    except (ImportError, TypeError):  # another torchaudio: the public API
        return torchaudio.functional.resample(waveform, orig_freq, new_freq)
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq,
                                       math.gcd(int(orig_freq), int(new_freq)),
                                       kernel.to(waveform.device), width)


def decode_audio(path: str,
                 sample_rate: Optional[int] = None,
                 mono: bool = True) -> Tuple[np.ndarray, int, float]:
    """Decode the first audio stream of a file (a wav or a video container).

    :func:`mmemo.datasets.decoding.decode_audio_track` without its repair
    counts: channels are mixed down by averaging; resampling uses
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
    from .decoding import decode_audio_track
    track = decode_audio_track(path, sample_rate, mono)
    return track.samples, track.rate, track.start_time


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


def describe_source(video: str, audio: Optional[str] = None) -> dict:
    """What an input holds: its files, the modalities used and missing.

    Args:
        video (str): A video (with or without an audio track) or an audio
            file given alone.
        audio (str, optional): A separate audio file. Defaults to None.

    Returns:
        dict: ``video`` (None for an audio file), ``audio`` (the audio's
        file, None without audio), ``separate_audio``, ``modalities``,
        ``missing``.
    """
    has_video, has_audio = check_media(video, 'video_path')
    separate = None
    if audio is not None:
        if not check_media(audio, 'audio_path')[1]:
            raise BadSampleError(str(audio), 'has no audio track')
        separate = str(audio)
    audio_file = separate or (str(video) if has_audio else None)
    video_file = str(video) if has_video else None
    modalities = [
        m for m, f in (('video', video_file), ('audio', audio_file))
        if f is not None
    ]
    return dict(
        video=video_file,
        audio=audio_file,
        separate_audio=separate if has_video else None,
        modalities=modalities,
        missing=[m for m in ('video', 'audio') if m not in modalities])


def media_cached(results: dict, key: tuple, compute: Callable):
    """``compute()``, kept in the sample's ``media_cache`` (a dict its
    caller keeps across calls on the same file) under ``key`` when the
    sample has one: a file's probe or decoded track is then made once.

    Args:
        results (dict): The transform's results.
        key (tuple): What was computed from what, e.g. ``('probe_video',
            path, tolerance)``.
        compute (callable): Makes the value.

    Returns:
        The value.
    """
    cache = results.get('media_cache')
    value = cache.get(key) if cache is not None else None
    if value is None:
        value = compute()
        if cache is not None:
            cache[key] = value
    return value
