# Copyright (c) mmemo contributors. All rights reserved.
"""``demo/demo_av.py`` as a subprocess on real GRID clips in several
containers (random-init models, CPU): its JSON, plot and annotated video."""
import importlib.util
import json
import math
import os.path as osp
import sys

import av
import numpy as np
import pytest
import torch
from helpers import REPO, container_set, grid_clip, run
from mmengine.config import Config
from PIL import Image

from mmemo.apis import init_model

DEMO = osp.join(REPO, 'demo', 'demo_av.py')
SYNTH = osp.join(REPO, 'configs', 'avtca_synth.py')


def load_demo():
    spec = importlib.util.spec_from_file_location('demo_av', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_av = load_demo()


@pytest.fixture(scope='module')
def face_model(tmp_path_factory) -> tuple:
    """configs/avtca_synth.py with MTCNN face crops in its test pipeline,
    and a random-init checkpoint of it."""
    root = tmp_path_factory.mktemp('face_model')
    cfg = Config.fromfile(SYNTH)
    pipeline = cfg.test_dataloader.dataset.pipeline
    at = [t['type'] for t in pipeline].index('AVDecode') + 1
    pipeline.insert(at, dict(type='FaceCrop', output_size=(128, 128)))
    cfg.test_dataloader.dataset.pipeline = pipeline
    config = str(root / 'avtca_synth_face.py')
    cfg.dump(config)
    torch.manual_seed(0)
    model = init_model(config)
    checkpoint = str(root / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    return config, checkpoint


@pytest.fixture(scope='module')
def media(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('demo_media')
    return container_set(str(root), grid_clip(1), 'talk')


def video_facts(path: str) -> dict:
    """Frames (RGB), count, duration and streams of a file, via PyAV."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames = [
            f.to_ndarray(format='rgb24') for f in container.decode(stream)
        ]
        has_audio = bool(container.streams.audio)
    return dict(
        frames=frames,
        count=len(frames),
        fps=fps,
        duration=len(frames) / fps,
        has_audio=has_audio)


def expected_windows(duration: float, window: float, stride: float) -> int:
    return max(1, math.ceil((duration - window) / stride - 1e-6) + 1)


def run_demo(tmp_path, name, video, model, *extra) -> tuple:
    config, checkpoint = model
    out = dict(
        json=str(tmp_path / f'{name}.json'),
        png=str(tmp_path / f'{name}.png'),
        video=str(tmp_path / f'{name}_annotated.mp4'))
    proc = run([
        sys.executable, DEMO, video, config, checkpoint, '--device', 'cpu',
        '--out-json', out['json'], '--plot', out['png'], '--out-video',
        out['video'], *extra
    ],
               cwd=str(tmp_path))
    with open(out['json']) as f:
        summary = json.load(f, parse_constant=refuse_non_standard)
    return summary, out, proc.stdout


def refuse_non_standard(token: str):
    """A strict JSON parser's answer to ``NaN`` / ``Infinity``."""
    raise ValueError(f'not strict JSON: {token}')


def check_summary(summary: dict, duration: float, window: float,
                  stride: float) -> None:
    assert summary['task'] == 'classification'
    assert summary['duration'] == pytest.approx(duration, abs=0.05)
    windows = summary['windows']
    assert summary['num_windows'] == len(windows) == expected_windows(
        summary['duration'], window, stride)
    assert summary['window'] == window and summary['stride'] == stride
    assert windows[0]['start'] == 0
    assert windows[-1]['end'] >= summary['duration'] - 0.05
    classes = summary['classes']
    assert len(classes) == 6
    for w in windows:
        assert w['end'] - w['start'] == pytest.approx(window)
        assert math.isclose(sum(w['scores']), 1, abs_tol=1e-5)
        assert w['label'] == classes[int(np.argmax(w['scores']))]
    mean = np.mean([w['scores'] for w in windows], axis=0)
    assert summary['overall']['scores'] == pytest.approx(mean.tolist())
    assert summary['overall']['label'] == classes[int(np.argmax(mean))]


def check_plot(path: str) -> None:
    with Image.open(path) as image:
        assert image.format == 'PNG'
        assert image.size[0] > 100 and image.size[1] > 100


def check_annotated(summary: dict, src: str, out: str) -> None:
    before, after = video_facts(src), video_facts(out)
    assert abs(after['count'] - before['count']) <= 1
    assert after['duration'] == pytest.approx(before['duration'], abs=0.1)
    assert after['fps'] == pytest.approx(before['fps'])
    assert after['has_audio'] == before['has_audio']
    assert summary['out_video'] == out
    # frame 40 (1.6 s): the banner and the window's face box are drawn,
    # the rest of the frame is the input (up to the H.264 re-encoding)
    index = 40
    t = index / before['fps']
    a = before['frames'][index].astype(np.int16)
    b = after['frames'][index].astype(np.int16)
    diff = np.abs(a - b).mean(axis=2)
    banner = demo_av.BANNER_HEIGHT
    assert diff[:banner].mean() > 25
    box = demo_av.box_at(demo_av.window_at(summary, t), t)
    assert box is not None
    x1, y1, x2, y2 = [int(round(v)) for v in box]
    assert 0 <= x1 < x2 <= a.shape[1] and banner <= y1 < y2 <= a.shape[0]
    outline = np.concatenate([
        diff[y1, x1 + 4:x2 - 4], diff[y2 - 1, x1 + 4:x2 - 4],
        diff[y1 + 4:y2 - 4, x1], diff[y1 + 4:y2 - 4, x2 - 1]
    ])
    assert outline.mean() > 40
    inside = diff[y1 + 10:y2 - 10, x1 + 10:x2 - 10]
    assert inside.mean() < 8
    # the drawn line is green
    assert b[y1, (x1 + x2) // 2, 1] > 150


@pytest.mark.parametrize('container', ['mp4', 'flv'])
def test_demo_on_audio_visual_files(container, face_model, media, tmp_path):
    extra = ('--stride', '0.8') if container == 'flv' else ()
    summary, out, stdout = run_demo(tmp_path, container, media[container],
                                    face_model, *extra)
    check_summary(summary, 3.0, 2.0, 0.8 if extra else 1.0)
    assert summary['modalities'] == ['video', 'audio']
    assert summary['note'] is None
    assert summary['fps'] == pytest.approx(25)
    assert len(summary['windows'][0]['face_boxes']) == 4
    assert 'Overall:' in stdout
    check_plot(out['png'])
    check_annotated(summary, media[container], out['video'])


def test_demo_on_a_video_without_audio(face_model, media, tmp_path):
    summary, out, stdout = run_demo(tmp_path, 'silent', media['mkv'],
                                    face_model)
    check_summary(summary, 3.0, 2.0, 1.0)
    assert summary['modalities'] == ['video']
    assert summary['note'].startswith('video-only')
    assert 'video-only' in stdout
    check_plot(out['png'])
    check_annotated(summary, media['mkv'], out['video'])


def test_demo_on_a_wav(face_model, media, tmp_path):
    summary, out, stdout = run_demo(tmp_path, 'wav', media['wav'], face_model)
    check_summary(summary, 2.98, 2.0, 1.0)
    assert summary['modalities'] == ['audio']
    assert summary['note'].startswith('audio-only')
    assert summary['fps'] is None
    assert 'face_boxes' not in summary['windows'][0]
    check_plot(out['png'])
    # no video to annotate: refused with a message, nothing written
    assert not osp.exists(out['video'])
    assert summary['out_video'] is None
    assert 'no video stream' in summary['out_video_skipped']
    assert '--out-video' in stdout and 'no video stream' in stdout


def test_demo_on_7_1_audio(face_model, media, tmp_path):
    """A separate 8-channel (7.1) float wav, which used to kill the
    process: predicted on, re-encoded into the annotated video, and the
    JSON (with every window's warnings) parses strictly."""
    from fractions import Fraction
    mono, rate = demo_av_audio(media['wav'])
    wide = np.stack([mono * (0.5 + 0.1 * c) for c in range(8)])  # [8, S]
    wav = str(tmp_path / 'surround.wav')
    with av.open(wav, 'w') as out:
        stream = out.add_stream('pcm_f32le', rate=rate, layout='7.1')
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(wide.T).reshape(1, -1), format='flt',
            layout='7.1')  # packed: PyAV's planar path is what crashes
        frame.sample_rate = rate
        frame.pts, frame.time_base = 0, Fraction(1, rate)
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(packet)
    summary, out, stdout = run_demo(tmp_path, 'surround', media['mkv'],
                                    face_model, '--audio', wav)
    check_summary(summary, 3.0, 2.0, 1.0)
    assert summary['modalities'] == ['video', 'audio']
    assert summary['warnings'] == []
    after = video_facts(out['video'])
    assert after['has_audio']
    with av.open(out['video']) as container:
        assert container.streams.audio[0].codec_context.channels == 2


def demo_av_audio(path: str) -> tuple:
    from mmemo.datasets.media import decode_audio
    samples, rate, _ = decode_audio(path)
    return samples, rate


def test_demo_missing_file_names_it(face_model, tmp_path):
    config, checkpoint = face_model
    missing = str(tmp_path / 'no_such_clip.mp4')
    proc = run([sys.executable, DEMO, missing, config, checkpoint],
               check=False)
    assert proc.returncode != 0
    assert 'no_such_clip.mp4' in proc.stdout and 'not found' in proc.stdout


def test_window_starts():
    assert demo_av.window_starts(3.0, 2.0, 1.0) == [0.0, 1.0]
    assert demo_av.window_starts(3.0, 2.0, 0.8) == [0.0, 0.8, 1.0]
    assert demo_av.window_starts(1.5, 2.0, 1.0) == [0.0]
    for duration in (2.0, 2.5, 7.3, 10.0):
        starts = demo_av.window_starts(duration, 2.0, 0.7)
        assert len(starts) == expected_windows(duration, 2.0, 0.7)
        assert starts[-1] + 2.0 == pytest.approx(duration) or \
            starts[-1] + 2.0 > duration


def test_demo_valence_arousal_in_process(media, tmp_path):
    """configs/concat_synth_va.py through main(): per-frame VA curves."""
    torch.manual_seed(0)
    model = init_model(osp.join(REPO, 'configs', 'concat_synth_va.py'))
    checkpoint = str(tmp_path / 'va.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    out_json, png = str(tmp_path / 'va.json'), str(tmp_path / 'va.png')
    summary = demo_av.main([
        media['mp4'],
        osp.join(REPO, 'configs', 'concat_synth_va.py'), checkpoint,
        '--window', '1.5', '--out-json', out_json, '--plot', png
    ])
    assert summary['task'] == 'valence_arousal'
    assert summary['num_windows'] == 2 and summary['stride'] == 1.5
    timeline = summary['timeline']
    assert len(timeline['times']) == 75  # every frame of the 3 s clip
    assert np.isfinite(timeline['valence']).all()
    with open(out_json) as f:
        assert json.load(f)['timeline']['times'] == timeline['times']
    check_plot(png)
