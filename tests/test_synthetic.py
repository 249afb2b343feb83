# Copyright (c) mmemo contributors. All rights reserved.
"""The synthetic audio-visual sets: files, formats, determinism, and that
the label factors are really in the media (measured from decoded files).
"""
import csv
import glob
import json
import os
import os.path as osp
import re
import sys
from collections import Counter

import av
import numpy as np
import pytest
import soundfile as sf
from helpers import REPO, run

import mmemo  # noqa: F401  (compat shims first, as in every entry point)
from mmemo.datasets.synthetic import (CLASSES, generate_categorical,
                                      generate_dimensional, read_annotation)

SR = 16000
FPS = 25
SMALL_CAT = dict(num_actors=2, reps_per_class=1)  # 12 clips
SMALL_DIM = dict(num_videos=2, num_actors=2, duration_range=(4.0, 4.0))
TOOL = osp.join(REPO, 'tools', 'data', 'synthetic', 'generate_synthetic.py')


# ----------------------------------------------------------------- helpers
def decode_frames(path: str) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 RGB frames of a video."""
    with av.open(path) as c:
        return np.stack(
            [f.to_ndarray(format='rgb24') for f in c.decode(video=0)])


def decode_track(path: str) -> np.ndarray:
    """Mono float samples of a file's first audio track."""
    with av.open(path) as c:
        return np.concatenate(
            [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])


def pitch_track(x: np.ndarray, start: float, end: float) -> np.ndarray:
    """FFT-peak pitch (80-400 Hz) of 20 ms frames every 10 ms, in Hz.

    The fundamental is the strongest partial of the synthetic voice, so the
    peak of a zero-padded spectrum in the voice range is its pitch.
    """
    n, hop, nfft = int(0.02 * SR), int(0.01 * SR), 8192
    freqs = np.fft.rfftfreq(nfft, 1 / SR)
    band = (freqs >= 80) & (freqs <= 400)
    track = []
    for s in range(int(start * SR), int(end * SR) - n, hop):
        mag = np.abs(np.fft.rfft(x[s:s + n] * np.hanning(n), nfft))
        track.append(freqs[band][np.argmax(mag[band])])
    return np.array(track)


def glide_slopes(x: np.ndarray, bursts) -> np.ndarray:
    """Slope of log2-pitch over the middle 60 % of each burst (>0 rising)."""
    slopes = []
    for b in bursts:
        start, length = b['start'], b['duration']
        f = pitch_track(x, start + 0.2 * length, start + 0.8 * length)
        slopes.append(np.polyfit(np.arange(len(f)), np.log2(f), 1)[0])
    return np.array(slopes)


def mouth_bend(frame: np.ndarray, mouth: dict) -> float:
    """Measured mouth bend in units of the full bend (+1 smile, -1 frown).

    For each column of the mouth region, the darkness-weighted mean row of
    the pixels clearly darker than the skin; a parabola through those rows
    gives the bend (corners above the centre = positive).
    """
    grey = frame.astype(float).mean(axis=2)
    hw, depth = mouth['half_width'], mouth['depth']
    x0 = int(np.ceil(mouth['x'] - 0.8 * hw))
    x1 = int(np.floor(mouth['x'] + 0.8 * hw)) + 1
    # a big, low face may put the mouth's lowest rows at the frame's edge
    y0 = max(0, int(round(mouth['y'] - depth / 2 - 5)))
    y1 = min(grey.shape[0], int(round(mouth['y'] + depth / 2 + 5)) + 1)
    roi = grey[y0:y1, x0:x1]
    weight = np.clip(0.7 * np.percentile(roi, 90) - roi, 0, None)
    rows = (weight * np.arange(y0, y1)[:, None]).sum(0) / np.maximum(
        weight.sum(0), 1e-6)
    u = (np.arange(x0, x1) - mouth['x']) / hw
    return float(-np.polyfit(u, rows, 2)[0] / depth)


def read_meta(root: str) -> dict:
    with open(osp.join(root, 'meta.json')) as f:
        return json.load(f)


def read_bytes(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def cat_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('syn_cat'))
    ann = generate_categorical(root, size='tiny', seed=0, progress=False)
    assert ann == osp.join(root, 'annotations.csv')
    return root


@pytest.fixture(scope='module')
def dim_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('syn_dim'))
    ann = generate_dimensional(root, size='tiny', seed=0, progress=False)
    assert ann == osp.join(root, 'annotations', 'VA_Estimation_Challenge')
    return root


# ------------------------------------------------------------- categorical
def test_categorical_layout(cat_root):
    with open(osp.join(cat_root, 'annotations.csv'), newline='') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['video', 'audio', 'label', 'subject']
    rows = rows[1:]
    assert len(rows) == 60
    assert rows == sorted(rows)
    pattern = re.compile(r'videos/(\d{4})_SYN_([0-5])_(\d{2})\.mp4')
    for video, audio, label, subject in rows:
        m = pattern.fullmatch(video)
        assert m, video
        assert audio == f'audio/{osp.basename(video)[:-4]}.wav'
        assert int(m.group(2)) == int(label)
        assert int(m.group(1)) == int(subject)
        assert osp.isfile(osp.join(cat_root, video))
        assert osp.isfile(osp.join(cat_root, audio))
    assert Counter(int(r[2]) for r in rows) == {c: 10 for c in range(6)}
    assert sorted({int(r[3]) for r in rows}) == [1, 2, 3, 4, 5]
    per_actor = Counter((r[3], r[2]) for r in rows)
    assert set(per_actor.values()) == {2}  # 2 clips per class per actor
    assert len(glob.glob(osp.join(cat_root, 'videos', '*'))) == 60
    assert len(glob.glob(osp.join(cat_root, 'audio', '*'))) == 60
    with open(osp.join(cat_root, 'classes.txt')) as f:
        assert f.read().splitlines() == list(CLASSES)
    assert CLASSES == ('smile+rising', 'smile+falling', 'neutral+rising',
                       'neutral+falling', 'frown+rising', 'frown+falling')
    assert not osp.exists(osp.join(cat_root, '.generating.json'))


def test_categorical_meta(cat_root):
    meta = read_meta(cat_root)
    assert meta['variant'] == 'categorical' and meta['size'] == 'tiny'
    assert meta['seed'] == 0 and meta['version']
    assert meta['params']['resolution'] == [128, 128]
    assert len(meta['clips']) == 60
    for c in meta['clips']:
        assert c['label'] == 2 * c['V'] + c['A']
        assert CLASSES[c['label']] == f"{c['expression']}+{c['contour']}"
        assert 0.3 <= c['onset'] <= 1.0
        assert 110 <= c['pitch'] <= 260
        assert 10 <= c['snr_db'] <= 30
        assert 3 <= len(c['bursts']) <= 5
        assert 4 <= c['num_harmonics'] <= 6
        assert 0.6 <= c['face']['scale'] <= 0.9
        # The actor fixes the base pitch (up to the clip's own jitter).
        actor_pitch = meta['actors'][str(c['subject'])]['pitch']
        assert abs(np.log2(c['pitch'] / actor_pitch)) <= 1 / 12 + 1e-6


def test_categorical_media_format(cat_root):
    meta = read_meta(cat_root)
    for c in meta['clips'][::17]:
        with av.open(osp.join(cat_root, c['video'])) as container:
            video = container.streams.video[0]
            audio = container.streams.audio[0]
            assert video.codec_context.name == 'h264'
            assert video.codec_context.pix_fmt == 'yuv420p'
            assert float(video.average_rate) == FPS
            assert (video.width, video.height) == (128, 128)
            assert audio.codec_context.name == 'aac'
            assert audio.rate == SR and audio.channels == 1
        assert len(decode_frames(osp.join(cat_root, c['video']))) == 75
        # AAC pads its last 1024-sample frame.
        track = decode_track(osp.join(cat_root, c['video']))
        assert 48000 <= len(track) <= 48000 + 1024
        info = sf.info(osp.join(cat_root, c['audio']))
        assert (info.samplerate, info.channels, info.frames) == (SR, 1, 48000)
        assert info.subtype == 'PCM_16'
        # The AAC track holds the wav's samples (lossy, aligned).
        wav, _ = sf.read(osp.join(cat_root, c['audio']))
        err = track[:48000] - wav
        assert 10 * np.log10(np.sum(wav**2) / np.sum(err**2)) > 20


def test_categorical_readable_by_mmemo(cat_root):
    from mmemo.datasets.media import decode_audio, probe_video
    c = read_meta(cat_root)['clips'][0]
    info = probe_video(osp.join(cat_root, c['video']))
    assert (info.num_frames, info.fps, info.has_audio) == (75, 25.0, True)
    samples, rate, _ = decode_audio(osp.join(cat_root, c['audio']))
    assert rate == SR and samples.shape == (48000, )


def test_pitch_contour_in_audio(cat_root):
    """A is audible: the pitch of the decoded AAC glides up or down."""
    for c in read_meta(cat_root)['clips']:
        slopes = glide_slopes(
            decode_track(osp.join(cat_root, c['video'])), c['bursts'])
        rising = slopes > 0
        assert rising.all() if c['A'] == 0 else not rising.any(), (c['name'],
                                                                   slopes)


def test_expression_in_video(cat_root):
    """V is visible after the onset only; frames before it are neutral."""
    bends = {0: [], 1: [], 2: []}
    for c in read_meta(cat_root)['clips']:
        frames = decode_frames(osp.join(cat_root, c['video']))
        for i in (0, c['onset_frame'] - 1):  # neutral frames
            assert abs(mouth_bend(frames[i], c['mouth'])) < 0.25, c['name']
        bends[c['V']].append(mouth_bend(frames[-1], c['mouth']))
    assert min(bends[0]) > 0.6  # smile: corners up
    assert max(np.abs(bends[1])) < 0.25  # neutral
    assert max(bends[2]) < -0.6  # frown: corners down


def test_categorical_deterministic(tmp_path):
    roots = [str(tmp_path / name) for name in ('a', 'b', 'c')]
    # The second run in 2 processes: the same files.
    for root, seed, nproc in zip(roots, (3, 3, 4), (1, 2, 1)):
        generate_categorical(
            root, seed=seed, nproc=nproc, progress=False, **SMALL_CAT)
    a, b, c = roots
    for name in ('annotations.csv', 'classes.txt', 'meta.json'):
        assert read_bytes(osp.join(a, name)) == read_bytes(osp.join(b, name))
    clips = read_meta(a)['clips']
    assert len(clips) == 12
    for clip in clips[::5]:
        for key in ('video', 'audio'):
            paths = [osp.join(r, clip[key]) for r in roots]
            assert read_bytes(paths[0]) == read_bytes(paths[1])
        video = [osp.join(r, clip['video']) for r in roots]
        np.testing.assert_array_equal(
            decode_frames(video[0]), decode_frames(video[1]))
        np.testing.assert_array_equal(
            decode_track(video[0]), decode_track(video[1]))
        # Another seed: same names and labels, other data.
        assert not np.array_equal(
            decode_frames(video[0]), decode_frames(video[2]))
        assert not np.array_equal(
            sf.read(osp.join(a, clip['audio']))[0],
            sf.read(osp.join(c, clip['audio']))[0])
    assert read_bytes(osp.join(a, 'annotations.csv')) == read_bytes(
        osp.join(c, 'annotations.csv'))
    assert read_meta(a)['clips'] != read_meta(c)['clips']


def test_generation_is_idempotent(tmp_path):
    root = str(tmp_path / 'set')
    kwargs = dict(num_actors=1, reps_per_class=1, progress=False)
    generate_categorical(root, **kwargs)
    video = osp.join(root, 'videos', '0001_SYN_0_00.mp4')
    mtime = os.stat(video).st_mtime_ns
    generate_categorical(root, **kwargs)  # same set: nothing to do
    assert os.stat(video).st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match='seed: 0 .*1'):
        generate_categorical(root, seed=1, **kwargs)
    with pytest.raises(FileExistsError, match='resolution'):
        generate_categorical(root, resolution=64, **kwargs)
    generate_categorical(root, seed=1, overwrite=True, **kwargs)
    assert read_meta(root)['seed'] == 1
    # A missing file (or an interrupted run) of the same set: regenerated.
    os.remove(video)
    generate_categorical(root, seed=1, **kwargs)
    assert osp.isfile(video)
    os.remove(osp.join(root, 'meta.json'))
    with open(osp.join(root, '.generating.json'), 'w') as f:
        f.write('{}')  # interrupted run of another set
    with pytest.raises(FileExistsError, match='no complete'):
        generate_categorical(root, seed=1, **kwargs)


def test_foreign_folder_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty'):
        generate_categorical(str(tmp_path), progress=False, **SMALL_CAT)
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_bad_parameters(tmp_path):
    with pytest.raises(TypeError, match='unknown parameter'):
        generate_categorical(str(tmp_path), num_clips=3)
    with pytest.raises(ValueError, match='resolution'):
        generate_categorical(str(tmp_path), resolution=127)
    with pytest.raises(ValueError, match='size'):
        generate_dimensional(str(tmp_path), size='huge')
    assert not os.listdir(tmp_path)


def test_cli(tmp_path):
    out = str(tmp_path / 'cli')

    def cli(seed: int, check: bool = True):
        return run([
            sys.executable, TOOL, '--out', out, '--size', 'tiny', '--seed',
            str(seed), '--resolution', '64', '--no-progress', '--set',
            'num_actors=1', 'reps_per_class=1'
        ],
                   check=check)

    assert 'annotations.csv' in cli(5).stdout
    meta = read_meta(out)
    assert meta['seed'] == 5 and meta['params']['resolution'] == [64, 64]
    frames = decode_frames(osp.join(out, meta['clips'][0]['video']))
    assert frames.shape == (75, 64, 64, 3)
    proc = cli(6, check=False)
    assert proc.returncode != 0 and '--overwrite' in proc.stdout


# ------------------------------------------------------------- dimensional
def test_dimensional_layout(dim_root):
    meta = read_meta(dim_root)
    assert meta['variant'] == 'dimensional' and len(meta['videos']) == 6
    ann_root = osp.join(dim_root, 'annotations', 'VA_Estimation_Challenge')
    txts = sorted(
        osp.relpath(p, ann_root)
        for p in glob.glob(osp.join(ann_root, '*', '*.txt')))
    expected = sorted(
        osp.relpath(osp.join(dim_root, f['annotation']), ann_root)
        for v in meta['videos'] for f in v['faces'])
    assert txts == expected and len(txts) == 7
    pairs = [v for v in meta['videos'] if len(v['faces']) == 2]
    assert len(pairs) == 1
    name = pairs[0]['name']
    assert {osp.basename(f['annotation'])
            for f in pairs[0]['faces']
            } == {f'{name}_left.txt', f'{name}_right.txt'}
    splits = {}
    for v in meta['videos']:
        assert osp.isfile(osp.join(dim_root, v['video']))
        assert osp.isfile(osp.join(dim_root, v['audio']))
        folder = {'train': 'Train_Set', 'val': 'Validation_Set'}[v['split']]
        for f in v['faces']:
            assert f'/{folder}/' in f['annotation']
        for s in v['subjects']:
            splits.setdefault(s, set()).add(v['split'])
    # Split by subject: nobody in both.
    assert all(len(s) == 1 for s in splits.values())
    assert {s.pop() for s in splits.values()} == {'train', 'val'}


def test_dimensional_annotations(dim_root):
    meta = read_meta(dim_root)
    unannotated = 0
    for v in meta['videos']:
        frames = decode_frames(osp.join(dim_root, v['video']))
        assert len(frames) == v['num_frames'] == 250
        arousal = []
        for f in v['faces']:
            path = osp.join(dim_root, f['annotation'])
            with open(path) as fh:
                lines = fh.read().splitlines()
            assert lines[0] == 'valence,arousal'
            assert len(lines) - 1 == len(frames)
            val, aro = read_annotation(path)
            missing = val == -5
            np.testing.assert_array_equal(missing, aro == -5)
            assert missing.any()  # masking is exercised
            assert np.abs(val[~missing]).max() <= 1
            assert np.abs(aro[~missing]).max() <= 1
            unannotated += missing.sum()
            arousal.append(np.where(missing, np.nan, aro))
        if len(arousal) == 2:  # one voice: the same arousal for both faces
            both = ~np.isnan(arousal[0]) & ~np.isnan(arousal[1])
            np.testing.assert_array_equal(arousal[0][both], arousal[1][both])
    assert 0 < unannotated < 0.2 * 7 * 250


def test_dimensional_media_format(dim_root):
    v = read_meta(dim_root)['videos'][0]
    path = osp.join(dim_root, v['video'])
    with av.open(path) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == 'h264'
        assert float(video.average_rate) == FPS
        assert (video.width, video.height) == (128, 128)
        assert container.streams.audio[0].codec_context.name == 'aac'
    info = sf.info(osp.join(dim_root, v['audio']))
    assert (info.samplerate, info.channels, info.frames) == (SR, 1, 160000)


def test_valence_drives_the_mouth(dim_root):
    """Every face's measured mouth bend follows its own valence."""
    meta = read_meta(dim_root)
    for v in meta['videos']:
        frames = decode_frames(osp.join(dim_root, v['video']))
        for f in v['faces']:
            val, _ = read_annotation(osp.join(dim_root, f['annotation']))
            ok = val != -5
            bend = np.array([mouth_bend(x, f['mouth']) for x in frames])
            assert np.corrcoef(bend[ok], val[ok])[0, 1] > 0.9, f['annotation']
            assert np.abs(bend[ok] - val[ok]).mean() < 0.2


def test_arousal_drives_loudness(dim_root):
    """Loudness of the decoded track in 1 s windows follows arousal."""
    meta = read_meta(dim_root)
    corrs = []
    for v in meta['videos']:
        track = decode_track(osp.join(dim_root, v['video']))
        _, aro = read_annotation(
            osp.join(dim_root, v['faces'][0]['annotation']))
        db, mean_aro = [], []
        for s in range(int(v['duration'])):
            window = aro[s * FPS:(s + 1) * FPS]
            if (window != -5).any():
                db.append(10 *
                          np.log10(np.mean(track[s * SR:(s + 1) * SR]**2)))
                mean_aro.append(window[window != -5].mean())
        corrs.append(np.corrcoef(db, mean_aro)[0, 1])
    assert min(corrs) > 0.4 and np.mean(corrs) > 0.6, corrs


def test_dimensional_deterministic(tmp_path):
    roots = [str(tmp_path / name) for name in ('a', 'b', 'c')]
    for root, seed, nproc in zip(roots, (0, 0, 1), (1, 2, 1)):
        generate_dimensional(
            root, seed=seed, nproc=nproc, progress=False, **SMALL_DIM)
    meta = read_meta(roots[0])
    files = ['meta.json'
             ] + [f['annotation'] for v in meta['videos'] for f in v['faces']]
    for name in files:
        assert read_bytes(osp.join(roots[0], name)) == read_bytes(
            osp.join(roots[1], name))
    video = [osp.join(r, meta['videos'][1]['video']) for r in roots]
    np.testing.assert_array_equal(
        decode_frames(video[0]), decode_frames(video[1]))
    np.testing.assert_array_equal(
        decode_track(video[0]), decode_track(video[1]))
    assert read_bytes(osp.join(roots[0], files[1])) != read_bytes(
        osp.join(roots[2], files[1]))
    assert not np.array_equal(decode_track(video[0]), decode_track(video[2]))
