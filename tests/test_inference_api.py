# Copyright (c) mmemo contributors. All rights reserved.
"""``mmemo.apis.init_model`` / ``inference_av`` / ``inference_folder`` on
real GRID clips in several containers, with random-init models (CPU, no
downloads; the MTCNN weights come with the install)."""
import math
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from helpers import (REPO, grid_clip, media_fixture, save_random_checkpoint,
                     transcode)
from mmengine.config import Config

from mmemo.apis import (AVInferencer, inference_av, inference_folder,
                        init_model)
from mmemo.datasets import BadSampleError
from mmemo.datasets.transforms import AVDecode, AVInit

SYNTH = osp.join(REPO, 'configs', 'avtca_synth.py')
H, W = 288, 360  # GRID frames
CLASSES = ['a', 'b', 'c', 'd', 'e', 'f']


@pytest.fixture(scope='module')
def media(tmp_path_factory) -> dict:
    """GRID clip 0 (3 s, 25 fps, 360x288) as the usual containers."""
    return media_fixture(tmp_path_factory, 0)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> str:
    """A random-init AVT-CA (synthetic config) saved with class names."""
    return save_random_checkpoint(
        str(tmp_path_factory.mktemp('ckpt') / 'avtca_synth_random.pth'),
        SYNTH,
        meta=dict(dataset_meta=dict(classes=CLASSES)))


@pytest.fixture(scope='module')
def model(checkpoint):
    return init_model(SYNTH, checkpoint, device='cpu')


def check_scores(result: dict, num_classes: int = 6) -> None:
    assert result['task'] == 'classification'
    scores = result['scores']
    assert len(scores) == num_classes == len(result['classes'])
    assert math.isclose(sum(scores), 1.0, abs_tol=1e-5)
    assert all(0 <= s <= 1 for s in scores)
    assert result['label'] == result['classes'][int(np.argmax(scores))]


def test_init_model_loads_checkpoint_and_meta(checkpoint, model):
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert model.dataset_meta['classes'] == tuple(CLASSES)
    assert not model.training
    assert isinstance(model.cfg, Config)
    # without a checkpoint: the dataset class's METAINFO, or the config's
    # own classes (a Config object and cfg_options work too)
    plain = init_model(Config.fromfile(SYNTH))
    assert plain.dataset_meta['classes'][0] == 'smile+rising'
    named = init_model(
        SYNTH, cfg_options={'test_dataloader.dataset.classes': list('uvwxyz')})
    assert named.dataset_meta['classes'] == tuple('uvwxyz')


def test_audio_visual_file(model, media):
    result = inference_av(model, media['mp4'])
    check_scores(result)
    assert result['file'] == media['mp4']
    assert result['modalities'] == ['video', 'audio']
    assert result['score_source'] == 'fusion'
    # avtca_synth: the last 2 s of the 3 s clip, 4 frames in them
    assert result['window'] == pytest.approx([1.0, 3.0])
    assert len(result['frame_times']) == 4
    assert all(1.0 <= t < 3.0 for t in result['frame_times'])
    assert set(result['modality_scores']) == {'fusion', 'audio', 'video'}
    for scores in result['modality_scores'].values():
        assert math.isclose(sum(scores), 1.0, abs_tol=1e-5)
    assert 'face_boxes' not in result  # the config has no FaceCrop
    # FLV (FLV1 video + MP3) gives the same kind of result
    check_scores(inference_av(model, media['flv']))


def test_missing_modalities(model, media):
    video_only = inference_av(model, media['mkv'])
    check_scores(video_only)
    assert video_only['modalities'] == ['video']
    # the model's own video-alone score (audio zeroed, as in training)
    assert video_only['score_source'] == 'video'
    assert video_only['scores'] == video_only['modality_scores']['video']

    audio_only = inference_av(model, media['wav'])
    check_scores(audio_only)
    assert audio_only['modalities'] == ['audio']
    assert audio_only['score_source'] == 'audio'
    assert 'frame_times' not in audio_only and 'face_boxes' not in audio_only

    # the silent video with the separate wav (RAVDESS / CREMA-D style)
    both = inference_av(model, media['mkv'], audio_path=media['wav'])
    check_scores(both)
    assert both['modalities'] == ['video', 'audio']
    assert both['audio_file'] == media['wav']
    assert both['scores'] != video_only['scores']


def test_window(model, media):
    result = inference_av(model, media['mp4'], start=0.5, duration=1.0)
    check_scores(result)
    assert result['window'] == pytest.approx([0.5, 1.5])
    assert all(0.5 <= t < 1.5 for t in result['frame_times'])
    with pytest.raises(ValueError, match='after the end'):
        inference_av(model, media['mp4'], start=10.0, duration=1.0)


def test_bad_input_names_the_file(model, media, tmp_path):
    missing = str(tmp_path / 'nowhere.mp4')
    with pytest.raises(FileNotFoundError, match='nowhere.mp4'):
        inference_av(model, missing)
    with pytest.raises(FileNotFoundError, match='nowhere.wav'):
        inference_av(model, media['mp4'], str(tmp_path / 'nowhere.wav'))
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'not a video at all' * 100)
    with pytest.raises(BadSampleError, match='junk.mp4'):
        inference_av(model, str(junk))


def test_configs_without_media_pipeline_are_refused():
    for name, what in (('jca_synth_va.py', 'LoadSubClipFeatures'),
                       ('jmt_affwild2.py',
                        'LoadFaceFrames'), ('toy_av.py', 'PackActionInputs'),
                       ('avtca_mosei_raw.py', 'sentiment')):
        cfg = Config.fromfile(osp.join(REPO, 'configs', name))
        with pytest.raises(ValueError, match=what):
            AVInferencer(cfg)


def test_face_crop_config(media, tmp_path, monkeypatch):
    """configs/avtca_ravdess.py crops faces (MTCNN) on 15 frames."""
    monkeypatch.chdir(tmp_path)  # its face cache: data/face_cache
    torch.manual_seed(0)
    model = init_model(osp.join(REPO, 'configs', 'avtca_ravdess.py'))
    result = inference_av(model, media['mp4'])
    check_scores(result, num_classes=8)
    assert result['label'] in ('neutral', 'calm', 'happy', 'sad', 'angry',
                               'fearful', 'disgust', 'surprised')
    boxes = np.asarray(result['face_boxes'])
    assert boxes.shape == (15, 4) and len(result['frame_times']) == 15
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
    assert (boxes[:, 2] <= W).all() and (boxes[:, 3] <= H).all()
    assert (boxes[:, 2] > boxes[:, 0] + 50).all()  # a face, not a sliver
    assert all(result['face_detected'])
    assert (tmp_path / 'data' / 'face_cache').is_dir()
    # audio alone: blank frames, no face crop, no boxes
    audio_only = inference_av(model, media['wav'])
    check_scores(audio_only, num_classes=8)
    assert 'face_boxes' not in audio_only


def test_other_classification_config(media):
    torch.manual_seed(0)
    model = init_model(osp.join(REPO, 'configs', 'cfnsr_synth.py'))
    result = inference_av(model, media['flv'])
    check_scores(result)
    assert result['window'] == pytest.approx([0.0, 3.0])  # the whole clip
    assert len(result['frame_times']) == 8


def test_valence_arousal_config(media):
    """configs/concat_synth_va.py: dense per-frame valence and arousal."""
    torch.manual_seed(0)
    model = init_model(osp.join(REPO, 'configs', 'concat_synth_va.py'))
    result = inference_av(model, media['mp4'], start=1.0, duration=1.0)
    assert result['task'] == 'valence_arousal'
    assert result['modalities'] == ['video', 'audio']
    assert result['window'] == pytest.approx([1.0, 2.0])
    assert result['times'] == pytest.approx(1.0 + np.arange(25) / 25)
    for key in ('valence', 'arousal'):
        values = np.asarray(result[key])
        assert values.shape == (25, ) and np.isfinite(values).all()
    audio_only = inference_av(model, media['wav'], start=0.0, duration=0.4)
    assert audio_only['modalities'] == ['audio']
    assert len(audio_only['valence']) == 10


def test_inference_folder(model, media, tmp_path):
    folder = tmp_path / 'inputs'
    folder.mkdir()
    for key in ('mp4', 'flv', 'mkv', 'wav'):
        shutil.copy(media[key], folder)
    (folder / 'notes.txt').write_text('not media')
    results = inference_folder(model, str(folder))
    names = [osp.basename(r['file']) for r in results]
    assert names == ['clip.flv', 'clip.mp4', 'clip.wav', 'clip_silent.mkv']
    for result in results:
        check_scores(result)
    assert [r['modalities'] for r in results] == [['video', 'audio'],
                                                  ['video', 'audio'],
                                                  ['audio'], ['video']]
    # separate audio files: clip_silent.wav goes with clip_silent.mkv
    videos, audios = tmp_path / 'videos', tmp_path / 'audios'
    videos.mkdir()
    audios.mkdir()
    shutil.copy(media['mkv'], videos)
    shutil.copy(media['wav'], str(audios / 'clip_silent.wav'))
    paired = inference_folder(
        model, str(videos), audio_folder=str(audios), show_progress=False)
    assert len(paired) == 1
    assert paired[0]['modalities'] == ['video', 'audio']
    assert paired[0]['audio_file'].endswith('clip_silent.wav')
    # a broken file: an error naming it, or a recorded error when skipping
    (folder / 'broken.mp4').write_bytes(b'x' * 4096)
    with pytest.raises(BadSampleError, match='broken.mp4'):
        inference_folder(model, str(folder), show_progress=False)
    results = inference_folder(
        model, str(folder), skip_errors=True, show_progress=False)
    assert len(results) == 5
    assert 'broken.mp4' in results[0]['error']


def test_seeking_decode_matches_sequential(model, checkpoint, media):
    """Windows far into a video seek to their frames: the same frames as
    decoding from the start (MPEG-PS without packet timestamps falls back
    to decoding from the start)."""
    for path in (media['mp4'], media['flv'], media['mkv'], grid_clip(0)):
        for inds in ([40, 50, 60, 74], [30, 31, 32], [74]):
            results = [
                AVInit()(dict(
                    filename=path, start_index=0, frame_inds=np.array(inds)))
                for _ in range(2)
            ]
            expected = AVDecode(seek_after=None)(results[0])['imgs']
            got = AVDecode(seek_after=0.0)(results[1])['imgs']
            assert len(got) == len(expected)
            for a, b in zip(got, expected):
                assert np.array_equal(a, b), (path, inds)
    plain = inference_av(model, media['mp4'], start=1.0, duration=2.0)
    sought = inference_av(
        init_model(
            SYNTH,
            checkpoint,
            cfg_options={'test_dataloader.dataset.pipeline.4.seek_after':
                         0.0}),
        media['mp4'],
        start=1.0,
        duration=2.0)
    assert sought['scores'] == pytest.approx(plain['scores'])


def test_short_audio_follows_the_datasets_length_policy(
        model, media, tmp_path):
    """Inference applies LoadAudio's one length policy, as training and
    testing do: audio 0.6 s shorter than the video is padded with silence
    (and said so in ``warnings``); 2 s shorter is beyond the 1-s tolerance
    and refused with the datasets' message."""
    short = transcode(
        grid_clip(0),
        str(tmp_path / 'short.wav'),
        video_codec=None,
        audio_codec='pcm_s16le',
        audio_cut=0.6)
    result = inference_av(model, media['mkv'], audio_path=short)
    check_scores(result)
    assert result['modalities'] == ['video', 'audio']
    padded = [w for w in result['warnings'] if w.startswith('audio padded')]
    assert len(padded) == 1 and '0.6' in padded[0], result['warnings']
    clean = inference_av(model, media['mp4'])
    assert clean['warnings'] == []
    too_short = transcode(
        grid_clip(0),
        str(tmp_path / 'too_short.wav'),
        video_codec=None,
        audio_codec='pcm_s16le',
        max_seconds=1.0)
    with pytest.raises(
            BadSampleError,
            match='too_short.wav: audio track '
            'does not cover 1.9. s of the video'):
        inference_av(model, media['mkv'], audio_path=too_short)


def test_results_warn_about_weak_inputs(model, media, tmp_path):
    """``warnings``: a still image, a single frame, audio much shorter than
    the window; a clean clip has none."""
    import av
    from PIL import Image
    assert inference_av(model, media['mp4'])['warnings'] == []
    with av.open(media['mp4']) as container:
        frame = next(container.decode(video=0)).to_ndarray(format='rgb24')
    still = str(tmp_path / 'still.png')
    Image.fromarray(frame).save(still)
    result = inference_av(model, still)
    check_scores(result)
    assert result['modalities'] == ['video']
    assert [w.split(':')[0] for w in result['warnings']] == ['still image']
    one = transcode(grid_clip(0), str(tmp_path / 'one.mp4'), max_seconds=0.04)
    result = inference_av(model, one)
    check_scores(result)
    assert [w.split(':')[0] for w in result['warnings']
            ] == ['single frame',
                  'audio much shorter than the window'], result['warnings']
