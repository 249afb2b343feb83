# Copyright (c) mmemo contributors. All rights reserved.
"""Writing the clips: H.264 + AAC in ``.mp4`` with PyAV, PCM wav.

Reproducibility: libx264 runs on one thread (its output then depends only on
the input and the options) and the muxer gets ``+bitexact``, which leaves
out the library version strings and creation times, so the same frames and
samples give byte-identical files with the same FFmpeg build.
"""
import os.path as osp
from typing import Dict, Iterable

import av
import numpy as np
import soundfile as sf


def write_wav(path: str, pcm16: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit mono PCM samples to a wav file.

    Args:
        path (str): Output ``.wav`` file.
        pcm16 (np.ndarray): ``[S]`` int16 samples.
        sample_rate (int): Sampling rate, Hz.
    """
    sf.write(path, pcm16, sample_rate, subtype='PCM_16', format='WAV')


def write_mp4(path: str,
              frames: Iterable[np.ndarray],
              pcm16: np.ndarray,
              fps: int,
              sample_rate: int,
              crf: int = 20,
              preset: str = 'veryfast',
              audio_bitrate: int = 64000) -> None:
    """Encode RGB frames (H.264, yuv420p) and mono audio (AAC) into mp4.

    Args:
        path (str): Output ``.mp4`` file.
        frames (iterable of np.ndarray): ``[H, W, 3]`` uint8 RGB frames, all
            of the same even size.
        pcm16 (np.ndarray): ``[S]`` int16 mono samples.
        fps (int): Frame rate.
        sample_rate (int): Audio sampling rate, Hz.
        crf (int): libx264 constant rate factor. Defaults to 20.
        preset (str): libx264 preset. Defaults to ``'veryfast'``.
        audio_bitrate (int): AAC bit rate, bit/s. Defaults to 64000.
    """
    with av.open(
            path, 'w', format='mp4', options={'fflags': '+bitexact'}) as out:
        video = out.add_stream(
            'libx264', rate=fps, options=dict(crf=str(crf), preset=preset))
        video.pix_fmt = 'yuv420p'
        video.codec_context.thread_count = 1
        audio = out.add_stream('aac', rate=sample_rate, layout='mono')
        audio.bit_rate = audio_bitrate
        for i, rgb in enumerate(frames):
            if i == 0:
                video.height, video.width = rgb.shape[:2]
            frame = av.VideoFrame.from_ndarray(rgb, format='rgb24')
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        # The encoder buffers the samples into AAC's 1024-sample frames.
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm16[None]), format='s16', layout='mono')
        frame.sample_rate = sample_rate
        frame.pts = 0
        out.mux(audio.encode(frame))
        out.mux(audio.encode())


def write_media(out_dir: str, entry: Dict, frames: Iterable[np.ndarray],
                pcm16: np.ndarray, params: Dict) -> None:
    """Write one planned clip or video: its wav and its mp4.

    Args:
        out_dir (str): The set's folder.
        entry (dict): The clip's meta, with ``audio`` and ``video`` paths
            relative to ``out_dir``.
        frames (iterable of np.ndarray): ``[H, W, 3]`` uint8 RGB frames.
        pcm16 (np.ndarray): ``[S]`` int16 mono samples.
        params (dict): The set's parameters (rates and encoder options).
    """
    write_wav(osp.join(out_dir, entry['audio']), pcm16, params['sample_rate'])
    write_mp4(
        osp.join(out_dir, entry['video']),
        frames,
        pcm16,
        params['fps'],
        params['sample_rate'],
        crf=params['crf'],
        preset=params['preset'],
        audio_bitrate=params['audio_bitrate'])
