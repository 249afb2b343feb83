# Copyright (c) mmemo contributors. All rights reserved.
"""Decoding real recordings the way the ``ffmpeg`` command does.

``ffmpeg -i damaged.mp4 out.wav`` does not give up on a damaged file: a
packet the decoder rejects is skipped with an error message and decoding
goes on with the next one; a decoder that can conceal damage (H.264, AC-3)
does so and logs it; a read error of the container ends the input there.
The functions here do the same with PyAV, and count what they skipped:

- :func:`decode_audio_track` decodes a file's first audio track packet by
  packet to mono (or ``[C, S]``) float32. A rejected packet is skipped and
  its gap filled with silence, placed by the timestamps of the next decoded
  frame. Any channel layout and sample format is read with NumPy from the
  frame's own planes (:func:`frame_samples`) instead of PyAV's
  ``AudioFrame.to_ndarray`` / ``planes``, which crash the interpreter on
  planar audio with 8 or more channels (PyAV walks
  ``AVFrame.extended_data`` until a NULL pointer; for 8 planar channels the
  8 pointers fill ``AVFrame.data`` and the walk reads past it, e.g. 7.1
  AAC or a 7.1 WAV through ``AudioResampler(format='fltp')``).
- :func:`decode_video_frames` decodes the frames a sampler picked; a frame
  whose packet is rejected is replaced by the nearest decoded frame.
- :func:`check_av_lengths` is the one policy for an audio track that is
  shorter or longer than the video, or starts late (training, testing,
  inference and ``tools/data/check_dataset.py`` all use it).

What was repaired is returned as counts so that the loading transforms can
report it per sample (``media_report``) and warn once per file.
"""
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import av
import av.logging
import numpy as np
import torch
from av.audio.plane import AudioPlane
from mmengine.logging import print_log

from .errors import BadSampleError
from .media import Demuxer, open_audio_container, resample

#: Length differences below this are container rounding (an AAC priming
#: frame, the last video frame's duration), not a mismatch (seconds).
LENGTH_SLACK = 0.05

#: Sample formats (packed names) -> (dtype, offset, scale) to float.
_SAMPLE_FORMATS = {
    'u8': (np.uint8, 128.0, 1 / 128),
    's16': (np.int16, 0.0, 1 / 32768),
    's32': (np.int32, 0.0, 1 / 2**31),
    's64': (np.int64, 0.0, 1 / 2**63),
    'flt': (np.float32, 0.0, 1.0),
    'dbl': (np.float64, 0.0, 1.0),
}


# ----------------------------------------------------------------- FFmpeg log
@contextlib.contextmanager
def ffmpeg_errors() -> Iterator[list]:
    """Collect FFmpeg's error messages (what ``ffmpeg`` prints while it
    conceals damage) instead of letting them reach stderr.

    Yields:
        list: ``(level, component, message)`` tuples, filled as FFmpeg
        logs; warnings below the error level are not emitted at all.
    """
    level = av.logging.get_level()
    repeated = av.logging.get_skip_repeated()
    av.logging.set_level(av.logging.ERROR)
    av.logging.set_skip_repeated(False)  # one message per damaged packet
    try:
        with av.logging.Capture(local=False) as logs:
            yield logs
    finally:
        av.logging.set_skip_repeated(repeated)
        av.logging.set_level(level)


def _first_message(logs: Sequence[tuple], since: int,
                   decoder: str) -> Optional[str]:
    """The first message the decoder logged since ``since``.

    FFmpeg's log is process-wide: a message of another file (e.g. one held
    back as "repeated" and flushed now) may land in between, so only the
    decoder's own component counts.
    """
    for _, name, message in logs[since:]:
        if name == decoder and '(repeated' not in message:
            return f'{name}: {message.strip()}'
    return None


# --------------------------------------------------------------------- audio
def _channels(frame: av.AudioFrame) -> int:
    layout = frame.layout
    count = getattr(layout, 'nb_channels', None)
    return int(count if count is not None else len(layout.channels))


def frame_samples(frame: av.AudioFrame) -> np.ndarray:
    """The samples of a decoded audio frame as float32 ``[C, S]``.

    Reads each channel's plane (planar formats) or the one interleaved
    plane (packed formats) by index, so it never walks the frame's plane
    list (see the module docstring); integers are scaled to ``[-1, 1)``.

    Args:
        frame (av.AudioFrame): Any sample format and channel count.

    Returns:
        np.ndarray: float32 ``[C, S]``.
    """
    name = frame.format.name
    planar = frame.format.is_planar
    base = name[:-1] if planar else name
    if base not in _SAMPLE_FORMATS:
        raise ValueError(f'unsupported sample format {name!r}')
    dtype, offset, scale = _SAMPLE_FORMATS[base]
    channels, samples = _channels(frame), frame.samples
    if planar:
        data = np.stack([
            np.frombuffer(AudioPlane(frame, c), dtype, count=samples)
            for c in range(channels)
        ])  # [C, S]
    else:
        data = np.frombuffer(
            AudioPlane(frame, 0), dtype,
            count=samples * channels).reshape(samples, channels).T  # [C, S]
    out = data.astype(np.float32, order='C')  # [C, S] rows contiguous
    if offset:
        out -= offset
    if scale != 1.0:
        out *= scale
    return out


@dataclass
class AudioTrack:
    """A decoded audio track and what decoding had to repair.

    Attributes:
        samples (np.ndarray): float32 ``[S]`` (mono) or ``[C, S]``.
        rate (int): Their sample rate.
        start_time (float): Time of the first decoded sample in the
            container, s.
        codec (str): The decoder's name.
        channels (int): Channels of the file's track.
        source_rate (int): The file's sample rate.
        corrupt_packets (int): Packets the decoder rejected (skipped).
        concealed_packets (int): Packets decoded with an error message
            (the decoder concealed the damage, as ``ffmpeg`` does).
        demux_error (str, optional): The read error that ended the input
            early, if any.
        gaps (np.ndarray): int64 ``[K, 2]`` sample ranges ``[start, end)``
            filled with silence for skipped packets, at ``rate``.
        messages (list[str]): The first FFmpeg messages, for the warning.
    """
    samples: np.ndarray
    rate: int
    start_time: float
    codec: str
    channels: int
    source_rate: int
    corrupt_packets: int = 0
    concealed_packets: int = 0
    demux_error: Optional[str] = None
    gaps: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 2), np.int64))
    messages: List[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / self.rate

    @property
    def filled_seconds(self) -> float:
        return float((self.gaps[:, 1] - self.gaps[:, 0]).sum()) / self.rate

    def problems(self) -> Optional[str]:
        """What was repaired, in words (None when nothing was)."""
        return _repairs_text(self.corrupt_packets, self.concealed_packets,
                             self.demux_error, self.messages,
                             f'{self.filled_seconds:.3f} s of silence')


def _repairs_text(corrupt: int, concealed: int, demux_error: Optional[str],
                  messages: Sequence[str], filled: str) -> Optional[str]:
    parts = []
    if corrupt:
        parts.append(f'skipped {corrupt} corrupt packet(s) (filled with '
                     f'{filled})')
    if concealed:
        parts.append(f'{concealed} damaged packet(s) concealed by the '
                     'decoder')
    if demux_error:
        parts.append(f'reading stopped early ({demux_error})')
    if not parts:
        return None
    if messages:
        parts.append('FFmpeg: ' + '; '.join(messages[:2]))
    return ', '.join(parts)


def _check_finite(path: str, data: np.ndarray, position: int,
                  rate: int) -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        first = int(np.argwhere(bad)[0][-1]) + position
        raise BadSampleError(
            path, f'audio holds {int(bad.sum())} NaN/Inf sample value(s) '
            f'(the first at {first / rate:.3f} s): the file is damaged; '
            're-encode it or exclude the sample')


def decode_audio_track(path: str,
                       sample_rate: Optional[int] = None,
                       mono: bool = True) -> AudioTrack:
    """Decode the first audio track of a file as ``ffmpeg`` would.

    Packets the decoder rejects are skipped and counted and their time is
    filled with silence (placed by the next decoded frame's timestamp, else
    by the packet's duration); packets the decoder conceals are counted; a
    read error ends the track. NaN or infinite samples are an error naming
    the file.

    Args:
        path (str): A wav or any container with an audio stream.
        sample_rate (int, optional): Target rate (torchaudio's resampling);
            None keeps the file's.
        mono (bool): Average the channels. Defaults to True.

    Returns:
        AudioTrack: The samples and the repair counts.
    """
    container = open_audio_container(path)
    with container, ffmpeg_errors() as logs:
        if not container.streams.audio:
            raise BadSampleError(path, 'has no audio track')
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if rate <= 0:
            raise BadSampleError(path, 'audio track has no sample rate')
        chunks, gaps, messages = [], [], []
        position, first_time, channels = 0, None, None
        corrupt = concealed = 0
        skipped, lost = False, 0.0  # rejected packets not yet filled
        decoder = stream.codec_context.name  # its log component
        packets = Demuxer(container, stream)
        for packet in packets:
            seen = len(logs)
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                corrupt += 1
                skipped = True
                messages.append(
                    _first_message(logs, seen, decoder) or str(e))
                if packet.duration and packet.time_base:
                    lost += float(packet.duration * packet.time_base)
                continue
            message = _first_message(logs, seen, decoder)
            if message:
                concealed += 1
                messages.append(message)
            for frame in frames:
                data = frame_samples(frame)  # [C, S]
                _check_finite(path, data, position, rate)
                if channels is None:
                    channels = data.shape[0]
                time = frame.time
                if first_time is None:
                    first_time = time
                if skipped:
                    # silence for the skipped packets, up to this frame
                    if time is not None and first_time is not None:
                        gap = int(round((time - first_time) * rate)) - position
                    else:
                        gap = int(round(lost * rate))
                    if gap > 0:
                        chunks.append(np.zeros(gap, np.float32) if mono else
                                      np.zeros((channels, gap), np.float32))
                        gaps.append((position, position + gap))
                        position += gap
                    skipped, lost = False, 0.0
                if mono:
                    data = data.mean(axis=0)  # [S]
                elif data.shape[0] != channels:
                    raise BadSampleError(
                        path, f'the audio changes from {channels} to '
                        f'{data.shape[0]} channels mid-stream')
                chunks.append(data)
                position += data.shape[-1]
        demux_error = packets.error
        codec = stream.codec_context.name
        start = first_time
        if start is None:
            start = 0.0 if stream.start_time is None else float(
                stream.start_time * stream.time_base)
    if not chunks:
        problem = 'audio track holds no samples'
        if corrupt or demux_error:
            problem = f'audio track has no decodable packet ({corrupt} ' \
                f'corrupt; FFmpeg: {messages[0] if messages else demux_error})'
        raise BadSampleError(path, problem)
    samples = np.concatenate(chunks, axis=-1)  # [S] or [C, S]
    gaps = np.asarray(gaps, np.int64).reshape(-1, 2)
    out_rate = rate
    if sample_rate is not None and sample_rate != rate:
        samples = resample(
            torch.from_numpy(np.ascontiguousarray(samples)), rate,
            sample_rate).numpy()
        gaps = np.round(gaps * (sample_rate / rate)).astype(np.int64)
        out_rate = sample_rate
    return AudioTrack(
        samples=samples.astype(np.float32, copy=False),
        rate=int(out_rate),
        start_time=float(start),
        codec=codec,
        channels=int(channels or 0),
        source_rate=rate,
        corrupt_packets=corrupt,
        concealed_packets=concealed,
        demux_error=demux_error,
        gaps=gaps,
        messages=[m for m in messages if m])


def decoded_fraction(gaps: np.ndarray, first: int, length: int,
                     total: int) -> float:
    """Share of a window's samples that were decoded, not filled.

    Only the part of ``[first, first + length)`` that the track covers
    (``[0, total)``) counts: padding beyond the track is the length
    policy's business.

    Args:
        gaps (np.ndarray): ``[K, 2]`` filled sample ranges.
        first (int): First sample of the window (may be negative).
        length (int): Window length in samples.
        total (int): Samples in the track.

    Returns:
        float: In ``[0, 1]``; 1 when the track does not cover the window.
    """
    lo, hi = max(first, 0), min(first + length, total)
    if hi <= lo or len(gaps) == 0:
        return 1.0
    filled = np.clip(np.minimum(gaps[:, 1], hi) - np.maximum(gaps[:, 0], lo),
                     0, None).sum()
    return float(1.0 - filled / (hi - lo))


def check_window_decoded(results: dict, first: int, length: int) -> None:
    """Refuse an audio window too little of which was decoded.

    Reads what :class:`~mmemo.datasets.transforms.LoadAudio` left in
    ``results``: the filled ranges (``audio_gaps``) and its
    ``audio_min_decoded_fraction``.

    Args:
        results (dict): The pipeline's results.
        first (int): First sample of the window in the track.
        length (int): Window length in samples.

    Raises:
        BadSampleError: Less than the required share was decoded.
    """
    gaps = results.get('audio_gaps')
    if gaps is None or len(gaps) == 0:
        return
    minimum = results.get('audio_min_decoded_fraction', 0.0)
    share = decoded_fraction(gaps, first, length, len(results['audio']))
    if share < minimum:
        rate = results['audio_sample_rate']
        raise BadSampleError(
            results.get('audio_file') or results.get('filename', '?'),
            f'only {share:.0%} of the audio window at {first / rate:.2f} s '
            f'could be decoded (below min_decoded_fraction={minimum}): '
            'the rest is corrupt packets')


# --------------------------------------------------------------------- video
@dataclass
class VideoDecodeReport:
    """What :func:`decode_video_frames` had to repair.

    Attributes:
        corrupt_packets (int): Packets the decoder rejected (skipped).
        concealed_packets (int): Packets decoded with an error message.
        filled_frames (int): Wanted frames replaced by the nearest decoded
            frame.
        demux_error (str, optional): The read error that ended the input.
        messages (list[str]): The first FFmpeg messages.
    """
    corrupt_packets: int = 0
    concealed_packets: int = 0
    filled_frames: int = 0
    demux_error: Optional[str] = None
    messages: List[str] = field(default_factory=list)

    def problems(self) -> Optional[str]:
        """What was repaired, in words (None when nothing was)."""
        return _repairs_text(
            self.corrupt_packets, self.concealed_packets, self.demux_error,
            self.messages,
            f'the nearest decoded frame for {self.filled_frames} frame(s)')


def decode_video_frames(
    container: av.container.InputContainer,
    path: str,
    wanted: Sequence[int],
    frame_pts: Optional[Sequence[int]] = None,
    min_decoded_fraction: float = 0.75,
) -> Tuple[Dict[int, np.ndarray], VideoDecodeReport]:
    """Decode the frames with the given indices as ``ffmpeg`` would.

    A frame's index is the rank of its timestamp among all the video's
    packet timestamps (``frame_pts``, from :func:`probe_video`), so a
    skipped packet does not shift the frames after it; without them frames
    are counted as they come, a skipped packet counting as one frame. A
    wanted frame that could not be decoded takes the nearest decoded frame.

    Args:
        container (av.container.InputContainer): The open file (closed
            by the caller).
        path (str): Its path, for errors.
        wanted (sequence of int): Frame indices.
        frame_pts (sequence of int, optional): Sorted packet timestamps.
        min_decoded_fraction (float): Below this share of wanted frames
            really decoded the sample is bad. Defaults to 0.75.

    Returns:
        tuple: ``{index: H×W×3 uint8 RGB}`` for every wanted index, and
        the :class:`VideoDecodeReport`.
    """
    targets = sorted(set(int(i) for i in wanted))
    rank = {int(p): i for i, p in enumerate(frame_pts)} if frame_pts else {}
    report = VideoDecodeReport()
    stream = container.streams.video[0]
    decoded: Dict[int, np.ndarray] = {}
    previous = None  # (index, av.VideoFrame) of the last decoded frame
    next_target = 0  # position in `targets` of the first not yet handled
    counter = -1  # index of the last frame (decoded or skipped)

    def convert(frame) -> np.ndarray:
        return frame.to_ndarray(format='rgb24')

    with ffmpeg_errors() as logs:
        decoder = stream.codec_context.name  # its log component
        packets = Demuxer(container, stream)
        done = False
        for packet in packets:
            seen = len(logs)
            try:
                frames = packet.decode()
            except av.error.FFmpegError as e:
                report.corrupt_packets += 1
                report.messages.append(
                    _first_message(logs, seen, decoder) or str(e))
                if not rank:
                    counter += 1  # the frame it held is lost
                continue
            message = _first_message(logs, seen, decoder)
            if message:
                report.concealed_packets += 1
                report.messages.append(message)
            for frame in frames:
                index = rank.get(frame.pts, counter + 1) \
                    if frame.pts is not None else counter + 1
                counter = max(counter, index)
                # wanted frames passed over without a decoded frame: the
                # nearer of the previous decoded frame and this one
                while next_target < len(targets) and \
                        targets[next_target] < index:
                    target = targets[next_target]
                    use_previous = previous is not None and \
                        target - previous[0] <= index - target
                    decoded[target] = convert(
                        previous[1] if use_previous else frame)
                    report.filled_frames += 1
                    next_target += 1
                if next_target < len(targets) and \
                        targets[next_target] == index:
                    decoded[index] = convert(frame)
                    next_target += 1
                previous = (index, frame)
                if next_target == len(targets):
                    done = True
                    break
            if done:
                break
        report.demux_error = packets.error
    if previous is None:
        why = [m for m in report.messages if m] or [report.demux_error]
        raise BadSampleError(
            path, 'has no decodable video frame' +
            (f' (FFmpeg: {why[0]})' if why[0] else ''))
    for target in targets[next_target:]:  # past the last decodable frame
        decoded[target] = convert(previous[1])
        report.filled_frames += 1
    report.messages = [m for m in report.messages if m]
    real = 1 - report.filled_frames / len(targets)
    if real < min_decoded_fraction:
        raise BadSampleError(
            path, f'only {len(targets) - report.filled_frames} of '
            f'{len(targets)} sampled frames could be decoded (below '
            f'min_decoded_fraction={min_decoded_fraction}): '
            f'{report.problems()}')
    return decoded, report


# -------------------------------------------------------------- the policies
def check_av_lengths(path: str,
                     video_duration: float,
                     audio_offset: float,
                     audio_duration: float,
                     max_mismatch: Optional[float] = 1.0) -> Dict[str, float]:
    """The one policy for an audio track whose length differs from the
    video's: pad with silence (audio ends early or starts late) or trim
    (audio outside the video) up to ``max_mismatch`` seconds; beyond it the
    sample is bad.

    Args:
        path (str): The audio's file, for the error.
        video_duration (float): Length of the video, s.
        audio_offset (float): Start of the audio relative to the first
            video frame, s.
        audio_duration (float): Length of the audio, s.
        max_mismatch (float, optional): Tolerance in seconds for each of
            padding and trimming; None accepts any. Defaults to 1.0.

    Returns:
        dict: ``audio_padded`` and ``audio_trimmed`` in seconds (0 when
        below :data:`LENGTH_SLACK`, the rounding of containers).

    Raises:
        BadSampleError: A difference beyond the tolerance.
    """
    late = max(audio_offset, 0.0)
    early_end = max(video_duration - (audio_offset + audio_duration), 0.0)
    padded = min(late + early_end, video_duration)
    trimmed = max(-audio_offset, 0.0) + max(
        audio_offset + audio_duration - video_duration, 0.0)
    if max_mismatch is not None:
        span = (f'audio {audio_duration:.2f} s from {audio_offset:+.2f} s, '
                f'video {video_duration:.2f} s; tolerance '
                f'max_length_mismatch={max_mismatch:g} s')
        if padded > max_mismatch:
            raise BadSampleError(
                path, f'audio track does not cover {padded:.2f} s of the '
                f'video ({span})')
        if trimmed > max_mismatch:
            raise BadSampleError(
                path, f'audio track runs {trimmed:.2f} s beyond the video '
                f'({span})')
    return dict(
        audio_padded=round(padded, 3) if padded >= LENGTH_SLACK else 0.0,
        audio_trimmed=round(trimmed, 3) if trimmed >= LENGTH_SLACK else 0.0)


# ------------------------------------------------------------------ warnings
_warned: set = set()


def warn_once(path: str, what: str, text: Optional[str]) -> None:
    """Log a repair warning naming the file, once per file and process
    (DataLoader workers would otherwise repeat it every epoch)."""
    if not text or (path, what) in _warned:
        return
    _warned.add((path, what))
    print_log(f'{path}: {what}: {text}', logger='current',
              level=logging.WARNING)
