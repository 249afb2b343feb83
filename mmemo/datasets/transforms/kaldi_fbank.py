# Copyright (c) mmemo contributors. All rights reserved.
import torch
import torchaudio

from mmemo.registry import TRANSFORMS
from .base_audio_feature import BaseAudioFeature


@TRANSFORMS.register_module()
class KaldiFbank(BaseAudioFeature):
    """Kaldi-compatible log-mel filter banks (``torchaudio.compliance.kaldi``).

    The input used by AST/HiCMAE-style audio encoders: 25 ms Povey windows
    every 10 ms, 128 bins, no dither.

    Required keys: ``audio`` (waveform), ``audio_sample_rate``.

    Modified keys: ``audio`` (float32 ``[T, num_mel_bins]``).

    Args:
        sample_rate (int): Expected rate in Hz. Defaults to 16000.
        num_mel_bins (int): Filter banks. Defaults to 128.
        frame_length (float): Window in ms. Defaults to 25.
        frame_shift (float): Hop in ms. Defaults to 10.
        window_type (str): Kaldi window. Defaults to ``'povey'``.
        dither (float): Kaldi dither. Defaults to 0 (deterministic).
        scale (float): Factor applied to the [-1, 1] waveform first; Kaldi
            works on 16-bit integer amplitudes. Defaults to 32768.
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 num_mel_bins: int = 128,
                 frame_length: float = 25.,
                 frame_shift: float = 10.,
                 window_type: str = 'povey',
                 dither: float = 0.,
                 scale: float = 32768.) -> None:
        super().__init__(sample_rate,
                         int(round(sample_rate * frame_shift / 1000)))
        self.kwargs = dict(
            num_mel_bins=num_mel_bins,
            frame_length=frame_length,
            frame_shift=frame_shift,
            window_type=window_type,
            dither=dither,
            sample_frequency=sample_rate,
            use_energy=False)
        self.scale = scale

    def compute(self, waveform: torch.Tensor) -> torch.Tensor:
        return torchaudio.compliance.kaldi.fbank(
            waveform * self.scale, **self.kwargs)  # [T, num_mel_bins]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.kwargs}, scale={self.scale})'
