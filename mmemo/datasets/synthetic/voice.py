# Copyright (c) mmemo contributors. All rights reserved.
"""Synthesizing the voice: harmonic syllable bursts in additive noise.

A *burst* is a harmonic tone whose fundamental glides geometrically (i.e.
linearly in semitones) from ``f_start`` to ``f_end``, shaped by raised-cosine
attack and release ramps. Bursts are placed on a silent track, scaled to
their level, and white noise is added at a given SNR.
"""
from typing import Dict, Sequence

import numpy as np

ATTACK = 0.03  # s
RELEASE = 0.05  # s


def db_to_gain(db: float) -> float:
    """Amplitude gain of a level in dB."""
    return float(10**(db / 20))


def transpose(freq: float, semitones: float) -> float:
    """A frequency moved by a number of (fractional) semitones."""
    return float(freq * 2**(semitones / 12))


def harmonic_amplitudes(num_harmonics: int, rolloff: float) -> np.ndarray:
    """Amplitudes ``k**-rolloff`` of harmonics ``k = 1..num_harmonics``.

    With ``rolloff > 0`` the fundamental is the strongest partial, as in
    voiced speech, so its pitch is what a listener (or an estimator) hears.
    """
    return np.arange(1, num_harmonics + 1, dtype=float)**-float(rolloff)


def harmonic_burst(f_start: float,
                   f_end: float,
                   duration: float,
                   sample_rate: int,
                   amplitudes: Sequence[float],
                   phases: Sequence[float],
                   attack: float = ATTACK,
                   release: float = RELEASE) -> np.ndarray:
    """One voiced syllable: a harmonic tone gliding in pitch.

    Args:
        f_start (float): Fundamental at the start, Hz.
        f_end (float): Fundamental at the end, Hz.
        duration (float): Length in seconds.
        sample_rate (int): Sampling rate, Hz.
        amplitudes (sequence of float): Amplitude of each harmonic.
        phases (sequence of float): Start phase of each harmonic, radians.
        attack (float): Fade-in, s. Defaults to :data:`ATTACK`.
        release (float): Fade-out, s. Defaults to :data:`RELEASE`.

    Returns:
        np.ndarray: float64 samples with unit RMS over the burst.
    """
    n = max(1, int(round(duration * sample_rate)))
    u = np.arange(n) / n
    freq = f_start * (f_end / f_start)**u  # linear in semitones
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    signal = np.zeros(n)
    for k, (amp, phi) in enumerate(zip(amplitudes, phases), start=1):
        # Partials above Nyquist would alias into spurious low tones.
        if k * max(f_start, f_end) < 0.45 * sample_rate:
            signal += amp * np.sin(k * phase + phi)
    signal *= _envelope(n, sample_rate, attack, release)
    rms = np.sqrt(np.mean(signal**2))
    return signal / rms if rms > 0 else signal


def _ramp(length: float, n: int, sample_rate: int) -> np.ndarray:
    """A raised-cosine fade-in of ``length`` seconds (at most ``n // 2``)."""
    m = min(n // 2, int(round(length * sample_rate)))
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(m) / max(m, 1))


def _envelope(n: int, sample_rate: int, attack: float,
              release: float) -> np.ndarray:
    env = np.ones(n)
    fade_in = _ramp(attack, n, sample_rate)
    fade_out = _ramp(release, n, sample_rate)[::-1]
    env[:len(fade_in)] *= fade_in
    env[n - len(fade_out):] *= fade_out
    return env


def render_bursts(bursts: Sequence[Dict], num_samples: int, sample_rate: int,
                  amplitudes: Sequence[float],
                  phases: Sequence[float]) -> np.ndarray:
    """Place bursts on a silent track.

    Args:
        bursts (sequence of dict): ``start``, ``duration`` (s), ``f_start``,
            ``f_end`` (Hz) and ``gain`` (RMS of the burst) of each burst.
        num_samples (int): Length of the track.
        sample_rate (int): Sampling rate, Hz.
        amplitudes (sequence of float): Harmonic amplitudes.
        phases (sequence of float): Harmonic start phases.

    Returns:
        np.ndarray: ``[num_samples]`` float64 track.
    """
    track = np.zeros(num_samples)
    for b in bursts:
        burst = b['gain'] * harmonic_burst(
            b['f_start'], b['f_end'], b['duration'], sample_rate, amplitudes,
            phases)
        start = int(round(b['start'] * sample_rate))
        burst = burst[:max(0, num_samples - start)]
        track[start:start + len(burst)] += burst
    return track


def white_noise(rng: np.random.Generator, num_samples: int,
                rms: float) -> np.ndarray:
    """Gaussian white noise of a given RMS."""
    return rms * rng.standard_normal(num_samples)


def to_pcm16(signal: np.ndarray) -> np.ndarray:
    """Quantize float samples in ``[-1, 1]`` to 16-bit PCM (clipping).

    Both the wav file and the AAC track are made from these samples, so the
    two hold the same sound.
    """
    return np.clip(np.round(signal * 32767), -32768, 32767).astype(np.int16)
