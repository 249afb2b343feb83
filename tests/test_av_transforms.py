# Copyright (c) mmemo contributors. All rights reserved.
"""Audio and audio-visual transforms on real and synthetic signals."""
import os.path as osp

import numpy as np
import pytest
import torch
import torchaudio
from helpers import GRID_DIR, transcode

from mmemo.datasets.transforms import (MFCC, AVClipWindow, AVDecode, AVInit,
                                       KaldiFbank, LoadAudio,
                                       LogMelSpectrogram, NormalizeAudio,
                                       PackAVInputs, RandomRotation,
                                       SampleAlignedAudio, SpecAugment)

GRID = osp.join(GRID_DIR, 'bbaf2n.mpg')


def tone(freq=440., seconds=1.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


# ------------------------------------------------------------- loading
def test_load_audio_from_the_container_and_from_a_file(tmp_path):
    results = AVInit()(dict(filename=GRID, start_index=0))
    assert results['total_frames'] == 75 and results['avg_fps'] == 25.0
    assert results['has_audio'] and results['audio_offset'] == 0.0
    loaded = LoadAudio(sample_rate=16000)(dict(results))
    # MP2 44.1 kHz stereo -> 16 kHz mono
    assert loaded['audio'].ndim == 1 and loaded['audio_sample_rate'] == 16000
    assert loaded['audio_duration'] == pytest.approx(2.98, abs=0.05)
    wav = transcode(
        GRID,
        str(tmp_path / 'a.wav'),
        video_codec=None,
        audio_codec='pcm_s16le',
        sample_rate=22050,
        layout='stereo')
    separate = LoadAudio(sample_rate=None)(dict(results, audio_path=wav))
    assert separate['audio_sample_rate'] == 22050
    assert separate['audio_offset'] == 0.0
    results['video_reader'].close()


def test_av_decode_returns_the_requested_frames():
    results = AVInit()(dict(filename=GRID, start_index=0))
    results['frame_inds'] = np.array([0, 10, 10, 74])
    decoded = AVDecode()(results)
    imgs = decoded['imgs']
    assert len(imgs) == 4 and imgs[0].shape == (288, 360, 3)
    assert np.array_equal(imgs[1],
                          imgs[2]) and not np.array_equal(imgs[0], imgs[3])
    assert decoded['video_reader'] is None


def test_random_rotation_turns_the_whole_clip_by_one_angle():
    results = AVInit()(dict(filename=GRID, start_index=0))
    results['frame_inds'] = np.array([0, 0, 40])
    frames = AVDecode()(results)['imgs']
    np.random.seed(0)
    out = RandomRotation(max_angle=10)(dict(imgs=list(frames)))
    angle = out['rotation']
    assert 0 < abs(angle) <= 10
    rotated = out['imgs']
    assert [f.shape for f in rotated] == [f.shape for f in frames]
    # equal frames stay equal: one angle for the clip
    assert np.array_equal(rotated[0], rotated[1])
    # the centre pixel stays, a corner is uncovered (filled with 0)
    h, w = frames[0].shape[:2]
    assert np.abs(rotated[0][h // 2, w // 2].astype(int) -
                  frames[0][h // 2, w // 2]).max() <= 3
    assert rotated[0][0, 0].max() == 0 and frames[0][0, 0].max() > 0
    assert np.array_equal(
        RandomRotation(max_angle=0)(dict(imgs=[frames[2]]))['imgs'][0],
        frames[2])
    with pytest.raises(ValueError, match='max_angle'):
        RandomRotation(max_angle=-1)


# ----------------------------------------------------- windows, alignment
@pytest.mark.parametrize('anchor,start', [('center', 0.5), ('start', 0.0),
                                          ('end', 1.0)])
def test_clip_window(anchor, start):
    results = AVClipWindow(
        duration=2.0, anchor=anchor)(
            dict(total_frames=75, avg_fps=25.0, start_index=0))
    assert results['av_window'] == pytest.approx((start, start + 2.0))
    assert results['start_index'] == int(np.ceil(start * 25))  # 1st inside
    assert results['total_frames'] == 50


def test_clip_window_random_and_short_video():
    np.random.seed(0)
    starts = {
        AVClipWindow(1.0, 'random')(dict(
            total_frames=75, avg_fps=25.0, start_index=0))['av_window'][0]
        for _ in range(20)
    }
    assert len(starts) > 10 and all(0 <= s <= 2.0 for s in starts)
    short = AVClipWindow(3.6)(
        dict(total_frames=50, avg_fps=25.0, start_index=0))
    assert short['av_window'] == (0.0, 3.6)
    assert short['total_frames'] == 50 and short['start_index'] == 0


def test_aligned_audio_padding_and_offset():
    rate = 100
    audio = np.arange(1, 201, dtype=np.float32)  # 2 s, sample i = i + 1
    base = dict(
        audio=audio,
        audio_sample_rate=rate,
        audio_offset=0.5,  # the track starts 0.5 s after the first frame
        frame_inds=np.array([0, 10]),
        avg_fps=10.0)
    # frames 0..10 at 10 fps: 0.0-1.1 s; audio covers 0.5-2.5 s
    out = SampleAlignedAudio()(dict(base))
    assert out['video_window'] == pytest.approx((0.0, 1.1))
    assert out['audio_window'] == pytest.approx((0.0, 1.1))
    assert np.all(out['audio'][:50] == 0) and out['audio'][50] == 1
    assert len(out['audio']) == 110
    edge = SampleAlignedAudio(pad_mode='edge')(dict(base))
    assert np.all(edge['audio'][:50] == 1)
    clip = SampleAlignedAudio(duration=3.0)(dict(base, av_window=(2.0, 2.5)))
    assert clip['audio_window'] == pytest.approx((2.0, 5.0))
    assert clip['audio'][0] == 151 and clip['audio'][49] == 200
    assert np.all(clip['audio'][50:] == 0)


# ------------------------------------------------------------ features
def test_mfcc_matches_torchaudio_and_checks_the_rate():
    wave = tone()
    out = MFCC(
        n_mfcc=13, n_fft=400, hop_length=160)(
            dict(audio=wave, audio_sample_rate=16000))
    ref = torchaudio.transforms.MFCC(
        16000, 13, melkwargs=dict(n_fft=400, hop_length=160, n_mels=64))(
            torch.from_numpy(wave))
    assert out['audio'].shape == (101, 13)
    np.testing.assert_allclose(
        out['audio'], ref.T.numpy(), rtol=1e-4, atol=1e-3)
    assert out['audio_feature_rate'] == 100
    with pytest.raises(ValueError, match='expects 16000 Hz'):
        MFCC()(dict(audio=wave, audio_sample_rate=22050))


def test_log_mel_puts_a_tone_in_its_band():
    out = LogMelSpectrogram(n_mels=64)(
        dict(audio=tone(1000.), audio_sample_rate=16000))
    feats = out['audio']  # [T, 64]
    assert feats.shape == (101, 64)
    peak = int(np.argmax(feats.mean(axis=0)))
    mel_1k = 2595 * np.log10(1 + 1000 / 700)
    mel_max = 2595 * np.log10(1 + 8000 / 700)
    assert abs(peak - mel_1k / mel_max * 65) <= 2


def test_kaldi_fbank():
    out = KaldiFbank(num_mel_bins=128)(
        dict(audio=tone(seconds=2.0), audio_sample_rate=16000))
    # 25 ms windows every 10 ms, snip_edges: (2000 - 25) // 10 + 1 frames
    assert out['audio'].shape == (198, 128)
    assert np.isfinite(out['audio']).all()


def test_spec_augment_masks():
    np.random.seed(3)
    feats = np.random.rand(100, 40).astype(np.float32) + 1
    out = SpecAugment(
        num_freq_masks=2,
        freq_mask_width=5,
        num_time_masks=2,
        time_mask_width=10,
        mask_value=0.)(dict(audio=feats.copy()))['audio']
    masked_bins = (out == 0).all(axis=0).sum()
    masked_frames = (out == 0).all(axis=1).sum()
    assert 0 < masked_bins <= 10 and 0 < masked_frames <= 20
    assert np.array_equal(out[out != 0], feats[out != 0])
    untouched = SpecAugment(prob=0.)(dict(audio=feats.copy()))['audio']
    assert np.array_equal(untouched, feats)


def test_normalize_audio():
    feats = np.random.default_rng(0).normal(5, 3, (200, 8)).astype(np.float32)
    out = NormalizeAudio()(dict(audio=feats))['audio']
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)
    fixed = NormalizeAudio(
        'global', mean=-14.8,
        std=19.895)(dict(audio=np.full((3, 2), 5.095, np.float32)))['audio']
    np.testing.assert_allclose(fixed, 1.0, atol=1e-4)


# -------------------------------------------------------------- packing
def test_pack_av_inputs_keeps_continuous_targets_float():
    results = dict(
        imgs=np.zeros((1, 3, 4, 8, 8), np.float32),
        audio=np.zeros((20, 10), np.float32),
        label=3,
        va=[0.25, -0.5],
        filename='x.mp4',
        audio_window=(0.0, 1.0))
    packed = PackAVInputs(targets=dict(gt_va='va'))(results)
    assert packed['inputs']['video'].shape == (1, 3, 4, 8, 8)
    assert packed['inputs']['audio'].shape == (1, 1, 20, 10)
    sample = packed['data_samples']
    assert sample.gt_label.tolist() == [3]
    assert sample.gt_va.dtype == torch.float32
    assert sample.gt_va.tolist() == [0.25, -0.5]  # not cast to long
    assert sample.metainfo['filename'] == 'x.mp4'
    waveform = PackAVInputs(inputs=dict(audio='audio'))(
        dict(audio=np.zeros(16000, np.float32)))
    assert waveform['inputs']['audio'].shape == (1, 1, 16000)
    with pytest.raises(KeyError, match='no "imgs"'):
        PackAVInputs()(dict(audio=np.zeros(5, np.float32)))


def test_pack_av_inputs_packs_padding_masks_apart():
    """Padding masks go to `padding_masks`, neither inputs nor targets."""
    pack = PackAVInputs(
        inputs=dict(text='text_feats'),
        targets=dict(gt_va='gt_va'),
        padding_masks=dict(text='text_padding_mask'))
    packed = pack(
        dict(
            text_feats=np.zeros((3, 4), np.float32),
            gt_va=np.zeros((3, 2), np.float32),
            text_padding_mask=np.array([False, False, True])))
    assert set(packed['inputs']) == {'text'}
    sample = packed['data_samples']
    assert 'text_padding_mask' not in sample
    mask = sample.padding_masks.text
    assert mask.dtype == torch.bool and mask.tolist() == [False, False, True]
    assert 'padding_masks' in repr(pack)
    # without padding_masks the field is absent
    assert 'padding_masks' not in PackAVInputs(inputs=dict(text='text_feats'))(
        dict(text_feats=np.zeros((3, 4), np.float32)))['data_samples']
    with pytest.raises(KeyError, match='no "text_padding_mask"'):
        pack(
            dict(
                text_feats=np.zeros((3, 4), np.float32),
                gt_va=np.zeros((3, 2), np.float32)))
    with pytest.raises(ValueError, match=r"\['audio'\], which are not"):
        PackAVInputs(
            inputs=dict(text='text_feats'),
            padding_masks=dict(audio='audio_padding_mask'))
