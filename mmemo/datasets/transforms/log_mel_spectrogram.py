# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torchaudio

from mmemo.registry import TRANSFORMS
from .base_audio_feature import BaseAudioFeature


@TRANSFORMS.register_module()
class LogMelSpectrogram(BaseAudioFeature):
    """Log-mel spectrogram with ``torchaudio.transforms.MelSpectrogram``.

    E.g. JCA/JMT on Aff-Wild2: 44.1 kHz, ``n_fft=1024, win_length=882,
    hop_length=441, n_mels=64``, in dB.

    Required keys: ``audio`` (waveform), ``audio_sample_rate``.

    Modified keys: ``audio`` (float32 ``[T, n_mels]``).

    Args:
        sample_rate (int): Expected rate in Hz. Defaults to 16000.
        n_fft (int): FFT size. Defaults to 400.
        hop_length (int): Hop in samples. Defaults to 160.
        win_length (int, optional): Window; None = ``n_fft``.
        n_mels (int): Mel bands. Defaults to 64.
        f_min (float): Lowest frequency. Defaults to 0.
        f_max (float, optional): Highest frequency; None = Nyquist.
        mel_scale (str): ``'htk'`` or ``'slaney'``. Defaults to ``'htk'``.
        norm (str, optional): Mel filter normalisation (``'slaney'``).
        to_db (bool): ``10·log10`` of the power (True) or ``log(x + eps)``.
            Defaults to True.
        eps (float): Floor of the natural log. Defaults to 1e-6.
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 n_fft: int = 400,
                 hop_length: int = 160,
                 win_length: Optional[int] = None,
                 n_mels: int = 64,
                 f_min: float = 0.,
                 f_max: Optional[float] = None,
                 mel_scale: str = 'htk',
                 norm: Optional[str] = None,
                 to_db: bool = True,
                 eps: float = 1e-6) -> None:
        super().__init__(sample_rate, hop_length)
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            f_min=f_min,
            f_max=f_max,
            n_mels=n_mels,
            mel_scale=mel_scale,
            norm=norm)
        self.to_db = torchaudio.transforms.AmplitudeToDB(
            stype='power') if to_db else None
        self.eps = eps

    def compute(self, waveform: torch.Tensor) -> torch.Tensor:
        mel = self.mel(waveform)[0]  # [n_mels, T]
        mel = self.to_db(mel) if self.to_db else torch.log(mel + self.eps)
        return mel.T  # [T, n_mels]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'n_fft={self.mel.n_fft}, hop_length={self.hop_length}, '
                f'n_mels={self.mel.n_mels}, to_db={self.to_db is not None})')
