# Copyright (c) mmemo contributors. All rights reserved.
"""``AVInferencer``: the config's test pipeline, unchanged, on media files;
built from a config path, a model-zoo name or the registry."""
import json
import os.path as osp
import shutil

import pytest
from helpers import REPO, media_fixture, save_random_checkpoint

from mmemo.apis import AVInferencer, inference_av, init_model
from mmemo.registry import INFERENCERS
from mmemo.utils import strict_json

SYNTH = osp.join(REPO, 'configs', 'avtca_synth.py')


@pytest.fixture(scope='module')
def media(tmp_path_factory) -> dict:
    """GRID clip 1 (3 s, 25 fps, 360x288) as the usual containers."""
    return media_fixture(tmp_path_factory, 1)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp('ckpt') / 'avtca_synth.pth')
    return save_random_checkpoint(path, SYNTH, seed=1)


@pytest.fixture(scope='module')
def inferencer(checkpoint) -> AVInferencer:
    return AVInferencer(SYNTH, checkpoint)


def strict(result: dict) -> dict:
    """The result through strict JSON (no NaN, plain types) and back."""
    return json.loads(strict_json.dumps(result))


def test_config_path_video(inferencer, checkpoint, media):
    out = inferencer(media['mp4'])
    assert list(out) == ['predictions'] and len(out['predictions']) == 1
    result = strict(out['predictions'][0])
    assert result['file'] == media['mp4']
    assert result['modalities'] == ['video', 'audio']
    assert result['task'] == 'classification'
    assert abs(sum(result['scores']) - 1) < 1e-5
    assert len(result['frame_times']) == 4 and result['window'] == [1.0, 3.0]
    # the function API is a thin user of it: the same numbers
    same = inference_av(init_model(SYNTH, checkpoint), media['mp4'])
    assert same['scores'] == pytest.approx(result['scores'], abs=1e-6)
    assert list(same) == list(out['predictions'][0])


def test_registry_and_model_zoo_name(inferencer, checkpoint, media):
    expected = inferencer(media['flv'])['predictions'][0]['scores']
    for cfg in (dict(type='AVInferencer', model=SYNTH, weights=checkpoint),
                dict(
                    type='audio-visual-emotion',
                    model='avtca_synth',
                    weights=checkpoint)):
        built = INFERENCERS.build(cfg)
        assert isinstance(built, AVInferencer)
        got = built(media['flv'])['predictions'][0]['scores']
        assert got == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match='no published weights'):
        AVInferencer('avtca_synth')
    with pytest.raises(ValueError, match='neither a config file nor'):
        AVInferencer('avtca_nowhere')


def test_video_and_separate_audio(inferencer, media):
    result = inferencer(dict(video=media['mkv'],
                             audio=media['wav']))['predictions'][0]
    assert result['modalities'] == ['video', 'audio']
    assert result['audio_file'] == media['wav']
    video_only = inferencer(media['mkv'])['predictions'][0]
    assert video_only['modalities'] == ['video']
    assert video_only['score_source'] == 'video'
    assert result['scores'] != video_only['scores']


def test_audio_only(inferencer, media):
    result = strict(inferencer(media['wav'])['predictions'][0])
    assert result['modalities'] == ['audio']
    assert result['score_source'] == 'audio'
    assert result['scores'] == result['modality_scores']['audio']
    assert 'frame_times' not in result


def test_folder(inferencer, media, tmp_path):
    folder = tmp_path / 'inputs'
    folder.mkdir()
    for key in ('mp4', 'wav'):
        shutil.copy(media[key], folder)
    (folder / 'readme.txt').write_text('not media')
    (folder / 'broken.mp4').write_bytes(b'x' * 4096)
    with pytest.raises(Exception, match='broken.mp4'):
        inferencer(str(folder))
    results = inferencer(str(folder), skip_errors=True)['predictions']
    assert [osp.basename(r['file'])
            for r in results] == ['broken.mp4', 'clip.mp4', 'clip.wav']
    assert 'broken.mp4' in results[0]['error']
    assert [r['modalities'] for r in results[1:]] == [['video', 'audio'],
                                                      ['audio']]
