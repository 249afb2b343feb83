# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional

import torch
import torchaudio

from mmemo.registry import TRANSFORMS
from .base_audio_feature import BaseAudioFeature


@TRANSFORMS.register_module()
class MFCC(BaseAudioFeature):
    """MFCCs of the waveform with ``torchaudio.transforms.MFCC``.

    ``mel_scale='slaney', norm='slaney'`` reproduce librosa's defaults (the
    AVT-CA and CFN-SR recipes use librosa: ``n_fft=2048, hop_length=512,
    n_mels=128``).

    Required keys: ``audio`` (waveform), ``audio_sample_rate``.

    Modified keys: ``audio`` (float32 ``[T, n_mfcc]``).

    Args:
        sample_rate (int): Expected rate in Hz. Defaults to 16000.
        n_mfcc (int): Number of coefficients. Defaults to 40.
        n_fft (int): FFT size. Defaults to 400.
        hop_length (int): Hop in samples. Defaults to 160.
        win_length (int, optional): Window; None = ``n_fft``.
        n_mels (int): Mel bands. Defaults to 64.
        f_min (float): Lowest frequency. Defaults to 0.
        f_max (float, optional): Highest frequency; None = Nyquist.
        mel_scale (str): ``'htk'`` or ``'slaney'``. Defaults to ``'htk'``.
        norm (str, optional): Mel filter normalisation (``'slaney'``).
        center (bool): Pad so frames are centred. Defaults to True.
    """

    def __init__(self,
                 sample_rate: int = 16000,
                 n_mfcc: int = 40,
                 n_fft: int = 400,
                 hop_length: int = 160,
                 win_length: Optional[int] = None,
                 n_mels: int = 64,
                 f_min: float = 0.,
                 f_max: Optional[float] = None,
                 mel_scale: str = 'htk',
                 norm: Optional[str] = None,
                 center: bool = True) -> None:
        super().__init__(sample_rate, hop_length)
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=sample_rate,
            n_mfcc=n_mfcc,
            melkwargs=dict(
                n_fft=n_fft,
                hop_length=hop_length,
                win_length=win_length,
                n_mels=n_mels,
                f_min=f_min,
                f_max=f_max,
                mel_scale=mel_scale,
                norm=norm,
                center=center))

    def compute(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.mfcc(waveform)[0].T  # [T, n_mfcc]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.mfcc.melkwargs}, ' \
            f'n_mfcc={self.mfcc.n_mfcc}, sample_rate={self.sample_rate})'
