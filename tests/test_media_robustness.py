# Copyright (c) mmemo contributors. All rights reserved.
"""Real recordings are not clean: damaged packets, 7.1 audio, NaN samples,
tracks shorter than the video, paths that are not files. Every fixture is
made here from the shipped GRID clips with PyAV (no new binaries)."""
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap
from fractions import Fraction

import av
import av.logging
import numpy as np
import pytest
from helpers import REPO, grid_clip, run, transcode

from mmemo.datasets import BadSampleError
from mmemo.datasets import decoding
from mmemo.datasets.av_emotion_dataset import AVEmotionDataset
from mmemo.datasets.decoding import (check_av_lengths, check_window_decoded,
                                     decode_audio_track, decode_video_frames)
from mmemo.datasets.errors import TEST_SET_FIX
from mmemo.datasets.media import check_file, probe_video
from mmemo.datasets.transforms import AVDecode, AVInit, LoadAudio
from mmemo.utils import strict_json
from mmemo.utils.cli import error_line

DEMO = osp.join(REPO, 'demo', 'demo_av.py')
SYNTH = osp.join(REPO, 'configs', 'avtca_synth.py')


# ----------------------------------------------------------------- fixtures
def corrupt_packet(path: str, kind: str, where: float = 0.5) -> int:
    """Overwrite the payload of the packet of stream ``kind`` at relative
    position ``where`` with 0xFF bytes (one damaged packet mid-file);
    return its index."""
    with av.open(path) as container:
        stream = getattr(container.streams, kind)[0]
        spans = [(p.pos, p.size) for p in container.demux(stream)
                 if p.size and p.pos is not None and p.pos >= 0]
    index = int(len(spans) * where)
    pos, size = spans[index]
    with open(path, 'r+b') as f:
        f.seek(pos)
        f.write(b'\xff' * size)
    return index


def ac3_with_incomplete_last_frame(dst: str) -> str:
    """An AVI (MPEG-4 video, AC-3 audio) whose last audio packet holds only
    the first half of its frame, as in a cut-off real recording."""
    tmp = transcode(
        grid_clip(1),
        dst + '.full.avi',
        video_codec='mpeg4',
        audio_codec='ac3',
        fmt='avi',
        max_seconds=2.0)
    with av.open(tmp) as inp, av.open(dst, 'w', format='avi') as out:
        streams = [inp.streams.video[0], inp.streams.audio[0]]
        outs = {s.index: out.add_stream_from_template(s) for s in streams}
        packets = [p for p in inp.demux(*streams) if p.size]
        last = max(i for i, p in enumerate(packets)
                   if p.stream.type == 'audio')
        for i, packet in enumerate(packets):
            target = outs[packet.stream.index]
            if i == last:
                half = av.Packet(bytes(packet)[:packet.size // 2])
                half.pts, half.dts = packet.pts, packet.dts
                half.time_base = packet.time_base
                packet = half
            packet.stream = target
            out.mux(packet)
    os.remove(tmp)
    return dst


def write_wav(path: str, data: np.ndarray, rate: int = 16000) -> str:
    """A float32 wav of mono ``data`` (any values, NaN included)."""
    with av.open(path, 'w') as out:
        stream = out.add_stream('pcm_f32le', rate=rate, layout='mono')
        frame = av.AudioFrame.from_ndarray(
            data.astype(np.float32).reshape(1, -1), format='flt',
            layout='mono')
        frame.sample_rate = rate
        frame.pts, frame.time_base = 0, Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope='module')
def damaged(tmp_path_factory) -> dict:
    root = str(tmp_path_factory.mktemp('damaged'))
    aac = transcode(grid_clip(0), osp.join(root, 'aac.mp4'), max_seconds=2.0)
    corrupt_packet(aac, 'audio')
    video = transcode(
        grid_clip(2),
        osp.join(root, 'mpeg4.avi'),
        video_codec='mpeg4',
        audio_codec=None,
        fmt='avi',
        max_seconds=2.0)
    corrupt_packet(video, 'video')
    return dict(
        aac=aac,
        ac3=ac3_with_incomplete_last_frame(osp.join(root, 'ac3.avi')),
        video=video)


@pytest.fixture
def warnings_logged(monkeypatch) -> list:
    """The repair warnings (``decoding.warn_once``), whatever the logger."""
    logged = []
    monkeypatch.setattr(decoding, '_warned', set())
    monkeypatch.setattr(decoding, 'print_log',
                        lambda message, **kwargs: logged.append(message))
    return logged


# ------------------------------------------------------------ decoding
def test_corrupt_aac_packet_is_skipped_counted_and_warned(
        damaged, warnings_logged, tmp_path):
    # FFmpeg's log is process-wide: messages of other files (here held back
    # as "repeated") must not be taken for this file's
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'\0' * 64)
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        for _ in range(3):
            with pytest.raises(av.error.FFmpegError):
                av.open(str(junk))
    finally:
        av.logging.set_level(level)
    # at the file's rate (48 kHz), so that the filled samples stay exact
    results = LoadAudio(sample_rate=None)(dict(audio_path=damaged['aac']))
    report = results['media_report']
    assert report['audio_corrupt_packets'] == 1
    assert report['audio_concealed_packets'] == 0
    # the skipped packet's time is silence: the track keeps its length
    assert results['audio_duration'] == pytest.approx(2.0, abs=0.05)
    (start, end), = results['audio_gaps']
    assert end - start == 1024  # one AAC frame
    assert not results['audio'][start:end].any()
    assert results['audio'][start - 1024:start].any()
    assert len(warnings_logged) == 1
    assert warnings_logged[0].startswith(damaged['aac'] + ': audio: ')
    assert 'skipped 1 corrupt packet(s)' in warnings_logged[0]
    assert 'aac: ' in warnings_logged[0]  # FFmpeg's own message
    # a window that is mostly the filled gap is refused, as configured
    results['audio_min_decoded_fraction'] = 0.75
    check_window_decoded(results, start - 2048, 5 * 1024)  # 80 % decoded
    with pytest.raises(BadSampleError, match='of the audio window'):
        check_window_decoded(results, start, end - start)


def test_incomplete_ac3_frame_is_concealed_and_warned(damaged,
                                                      warnings_logged):
    results = LoadAudio(sample_rate=16000)(dict(audio_path=damaged['ac3']))
    report = results['media_report']
    assert report['audio'] == dict(
        codec='ac3', rate=48000, channels=2, duration=pytest.approx(
            2.0, abs=0.05), offset=0.0)
    assert report['audio_concealed_packets'] == 1
    assert report['audio_corrupt_packets'] == 0
    assert len(warnings_logged) == 1
    assert damaged['ac3'] in warnings_logged[0]
    assert '1 damaged packet(s) concealed by the decoder' in \
        warnings_logged[0]
    assert 'incomplete frame' in warnings_logged[0]


def test_corrupt_video_packet_takes_the_nearest_frame(damaged,
                                                      warnings_logged):
    path = damaged['video']
    info = probe_video(path)
    wanted = list(range(info.num_frames))
    with av.open(path) as container:
        frames, report = decode_video_frames(container, path, wanted,
                                             info.frame_pts)
    assert sorted(frames) == wanted
    # the MPEG-4 decoder rejects the packet: its frame is filled
    assert report.corrupt_packets == 1 and report.filled_frames == 1
    assert 'mpeg4: ' in report.problems()
    # the same through the pipeline, with the count in media_report
    results = AVInit()(dict(filename=path, start_index=0))
    results['frame_inds'] = np.arange(info.num_frames)
    results['clip_len'], results['num_clips'] = info.num_frames, 1
    results = AVDecode()(results)
    assert len(results['imgs']) == info.num_frames
    counts = results['media_report']
    assert counts['video_corrupt_packets'] + \
        counts['video_concealed_packets'] == 1
    assert any(path in w and 'video' in w for w in warnings_logged)
    # when every sampled frame must be decoded, the filled one is refused
    results = AVInit()(dict(filename=path, start_index=0))
    results['frame_inds'] = np.arange(info.num_frames)
    results['clip_len'], results['num_clips'] = info.num_frames, 1
    with pytest.raises(BadSampleError, match='sampled frames could be'):
        AVDecode(min_decoded_fraction=1.0)(results)


def long_video(path: str, seconds: float = 12.0, fps: int = 25) -> str:
    """An MPEG-4 AVI of ``seconds`` whose frames differ (a moving bar),
    with a key frame every second."""
    with av.open(path, 'w', format='avi') as out:
        stream = out.add_stream('mpeg4', rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
        stream.codec_context.gop_size = fps
        for i in range(int(seconds * fps)):
            img = np.full((48, 64, 3), 40, np.uint8)
            img[:, (i * 3) % 60:(i * 3) % 60 + 4] = 220
            img[:8, :] = i % 250
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_seeking_past_a_damaged_packet_gives_the_sequential_frames(
        tmp_path, warnings_logged):
    """A window 10 s or more into a video is sought to; when the decoder
    reports damage on the way (frame 280's packet overwritten, 5 frames
    after a key frame), the file is decoded from its start instead: the
    same frames and the same counts as without seeking, for windows before,
    across and after the damage."""
    path = long_video(str(tmp_path / 'long.avi'))
    assert corrupt_packet(path, 'video', where=280 / 300) == 280
    reports = []
    for inds in ([255, 260, 265], [276, 278, 280, 282, 284],
                 [290, 295, 299]):
        results = [
            AVInit()(dict(
                filename=path, start_index=0, frame_inds=np.array(inds)))
            for _ in range(2)
        ]
        sequential = AVDecode(seek_after=None)(results[0])
        sought = AVDecode()(results[1])  # seeks from 10 s on
        for a, b in zip(sought['imgs'], sequential['imgs']):
            assert np.array_equal(a, b), inds
        assert sought['media_report'] == sequential['media_report']
        reports.append(sequential['media_report'])
    damage = [r['video_corrupt_packets'] + r['video_concealed_packets']
              for r in reports]
    assert damage == [0, 1, 1]
    # the frames really differ from window to window (not all filled)
    assert not np.array_equal(sought['imgs'][0], sought['imgs'][-1])


MULTICHANNEL_SCRIPT = textwrap.dedent('''
    import json, sys
    from fractions import Fraction
    import av
    import numpy as np
    from mmemo.datasets.media import decode_audio

    RATE = 16000

    def write(path, codec, fmt, data, layout):
        with av.open(path, 'w') as out:
            stream = out.add_stream(codec, rate=RATE, layout=layout)
            for first in range(0, data.shape[1], 1024):
                chunk = data[:, first:first + 1024].T  # packed [S, C]
                if fmt == 's16':
                    chunk = np.round(chunk * 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk).reshape(1, -1),
                    format=fmt, layout=layout)
                frame.sample_rate = RATE
                frame.pts, frame.time_base = first, Fraction(1, RATE)
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)

    out = {}
    t = np.arange(RATE) / RATE
    for channels, layout in ((6, '5.1'), (8, '7.1')):
        data = np.stack([(0.1 + 0.05 * c) * np.sin(2 * np.pi *
                         (220 + 110 * c) * t) for c in range(channels)])
        data = data.astype(np.float32)
        for name, codec, fmt in (('s16.wav', 'pcm_s16le', 's16'),
                                 ('f32.wav', 'pcm_f32le', 'flt'),
                                 ('aac.m4a', 'aac', 'flt')):
            path = f'{sys.argv[1]}/{channels}ch_{name}'
            write(path, codec, fmt, data, layout)
            mono, rate, _ = decode_audio(path)
            wide, _, _ = decode_audio(path, mono=False)
            source = data.mean(axis=0)
            out[f'{channels}ch_{name}'] = dict(
                rate=rate, channels=wide.shape[0], samples=len(mono),
                vs_source=float(np.abs(mono[:RATE] - source).max()),
                vs_channels=float(np.abs(mono - wide.mean(axis=0)).max()))
    print(json.dumps(out))
''')


def test_6_and_8_channel_audio_decode_in_a_subprocess(tmp_path):
    """7.1 audio used to kill the interpreter (PyAV's plane walk reads past
    ``AVFrame.data``); a subprocess shows a crash as its exit status."""
    proc = subprocess.run(
        [sys.executable, '-c', MULTICHANNEL_SCRIPT,
         str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 6
    for name, r in results.items():
        channels = int(name.split('ch_')[0])
        assert r['channels'] == channels and r['rate'] == 16000, name
        # mono is the plain mean of all channels
        assert r['vs_channels'] < 1e-6, name
        if name.endswith('.wav'):  # lossless: the mean of what was written
            assert r['samples'] == 16000, name
            assert r['vs_source'] < 1e-4, name


def test_nan_and_inf_samples_are_a_clear_error(tmp_path):
    data = np.sin(np.linspace(0, 100, 16000)) * 0.1
    data[8000] = np.nan
    path = write_wav(str(tmp_path / 'nan.wav'), data)
    with pytest.raises(
            BadSampleError,
            match=r'nan\.wav: audio holds 1 NaN/Inf sample value\(s\) '
            r'\(the first at 0\.500 s\)'):
        decode_audio_track(path)
    data[8000], data[100:103] = 0.0, np.inf
    path = write_wav(str(tmp_path / 'inf.wav'), data)
    with pytest.raises(BadSampleError, match='3 NaN/Inf .* 0.006 s'):
        LoadAudio()(dict(audio_path=path))


# --------------------------------------------------------- length policy
def test_one_length_policy():
    # audio ending 0.6 s early, as in the real RAVDESS/CREMA-D files
    assert check_av_lengths('a.wav', 3.0, 0.0, 2.4) == dict(
        audio_padded=0.6, audio_trimmed=0.0)
    # starting 0.3 s late and ending with the video
    assert check_av_lengths('a.wav', 3.0, 0.3, 2.7) == dict(
        audio_padded=0.3, audio_trimmed=0.0)
    # 0.4 s beyond the video, and starting 0.2 s before it
    assert check_av_lengths('a.wav', 3.0, -0.2, 3.6) == dict(
        audio_padded=0.0, audio_trimmed=0.6)
    # container rounding is no mismatch
    assert check_av_lengths('a.wav', 3.0, 0.0, 2.98) == dict(
        audio_padded=0.0, audio_trimmed=0.0)
    with pytest.raises(BadSampleError,
                       match='a.wav: audio track does not cover 1.20 s'):
        check_av_lengths('a.wav', 3.0, 0.0, 1.8)
    with pytest.raises(BadSampleError, match='runs 1.50 s beyond'):
        check_av_lengths('a.wav', 3.0, 0.0, 4.5)
    # configurable, None accepting any
    assert check_av_lengths('a.wav', 3.0, 0.0, 1.8, 1.5)['audio_padded'] \
        == 1.2
    assert check_av_lengths('a.wav', 3.0, 0.0, 0.1, None)['audio_padded'] \
        == 2.9


# ------------------------------------------------------ paths and the CLI
def test_paths_that_are_not_files_say_what_they_are(tmp_path):
    folder = tmp_path / 'folder.mp4'
    folder.mkdir()
    fifo = str(tmp_path / 'pipe.mp4')
    os.mkfifo(fifo)
    link = str(tmp_path / 'link.mp4')
    os.symlink(str(tmp_path / 'gone.mp4'), link)
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    for path, problem in ((str(folder), 'is a directory, not a media file'),
                          (fifo, r'is a FIFO \(named pipe\)'),
                          (link, 'is a broken symbolic link'),
                          (str(empty), r'is empty \(0 bytes\)'),
                          (str(tmp_path / 'none.mp4'), 'file not found')):
        with pytest.raises(BadSampleError, match=f'{path}: {problem}'):
            check_file(path)
    # the demo: one line naming the path and what it is, exit status 1
    # (the checkpoint is never read: the input is checked first)
    for path, problem in ((fifo, 'is a FIFO (named pipe), not a media '
                           'file'), (str(folder), 'is a directory'),
                          (link, 'is a broken symbolic link')):
        proc = run([sys.executable, DEMO, path, SYNTH, 'none.pth'],
                   check=False)
        assert proc.returncode == 1
        assert proc.stdout.strip() == f'error: {path}: {problem}' or (
            proc.stdout.startswith(f'error: {path}: {problem}')
            and '\n' not in proc.stdout.strip()), proc.stdout
    proc = run([sys.executable, DEMO, fifo, SYNTH, 'none.pth', '--debug'],
               check=False)
    assert proc.returncode == 1 and 'Traceback' in proc.stdout


def test_cli_error_lines():
    assert error_line(BadSampleError('/d/a.mp4', 'has no audio track')) == \
        'error: /d/a.mp4: has no audio track'
    assert error_line(FileNotFoundError(2, 'No such file', '/d/x.pth')) == \
        'error: /d/x.pth: file not found'
    # a DataLoader worker re-raises a BadSampleError as a RuntimeError
    wrapped = RuntimeError(
        'Caught BadSampleError in DataLoader worker process 0.\nOriginal '
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        'mmemo.datasets.errors.BadSampleError: /d/a.mp4: has no audio '
        'track\n')
    assert error_line(wrapped) == 'error: /d/a.mp4: has no audio track'
    # anything else is a bug: its traceback is kept
    assert error_line(KeyError('x')) is None
    assert error_line(RuntimeError('CUDA out of memory')) is None


def test_json_is_strict():
    text = strict_json.dumps(
        dict(a=float('nan'), b=np.float32(1.5), c=np.array([1.0, np.inf]),
             d=(1, None), e={2: -float('inf')}))

    def refuse(token):
        raise ValueError(f'non-standard JSON token {token}')

    assert json.loads(text, parse_constant=refuse) == dict(
        a=None, b=1.5, c=[1.0, None], d=[1, None], e={'2': None})


# ------------------------------------------------------- datasets
def test_test_sets_are_fixed_up_front(tmp_path):
    """A test-mode dataset raises on an unusable sample, naming it and the
    fix; with it in ``exclude_file`` every mode leaves it out, counted."""
    for name in ('a.mp4', 'b.mp4'):
        (tmp_path / name).write_bytes(b'stub')
    (tmp_path / 'c.mp4').write_text(
        'version https://git-lfs.github.com/spec/v1\noid sha256:'
        f'{"0" * 64}\nsize 10\n')
    ann = tmp_path / 'ann.csv'
    ann.write_text('video,label\na.mp4,0\nb.mp4,1\nc.mp4,0\n')

    def build(**kwargs):
        return AVEmotionDataset(
            'ann.csv',
            pipeline=[],
            data_root=str(tmp_path),
            classes=('x', 'y'),
            **kwargs)

    with pytest.raises(BadSampleError) as error:
        build(test_mode=True, on_bad_sample='skip')
    assert str(error.value).startswith(str(tmp_path / 'c.mp4'))
    assert 'git-lfs pointer' in str(error.value)
    assert TEST_SET_FIX in str(error.value)
    skipping = build(on_bad_sample='skip')  # training may skip
    assert len(skipping) == 2 and len(skipping.bad_samples) == 1
    exclude = tmp_path / 'exclude.txt'
    exclude.write_text('# found by check_dataset\nc.mp4  # git-lfs\n')
    for test_mode in (True, False):
        dataset = build(test_mode=test_mode, exclude_file=str(exclude))
        assert len(dataset) == 2
        assert dataset.left_out == [(str(tmp_path / 'c.mp4'),
                                     'listed in exclude_file')]
        assert dataset.skipped['listed in exclude_file'] == 1
    # an entry may also be the file name without extension
    exclude.write_text('b\n')
    with pytest.raises(BadSampleError, match='c.mp4'):
        build(test_mode=True, exclude_file=str(exclude))
