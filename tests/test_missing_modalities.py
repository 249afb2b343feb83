# Copyright (c) mmemo contributors. All rights reserved.
"""``missing_modalities``: the one field that says a sample lacks a stream
(set by the inferencer or :class:`MissingModalities`), zeroed by the
recognizers after the data preprocessor."""
import os.path as osp

import pytest
import torch
from helpers import REPO
from mmaction.structures import ActionDataSample

from mmemo.apis import init_model
from mmemo.datasets.transforms import MissingModalities
from mmemo.models.recognizers.modality_dropout import zero_missing_modalities


def test_transform_adds_to_the_field():
    out = MissingModalities(['audio'])(dict(missing_modalities=['video']))
    assert out['missing_modalities'] == ['video', 'audio']
    assert MissingModalities(('video', ))(
        dict(missing_modalities=['video']))['missing_modalities'] == ['video']
    for bad in ([], ['text'], ['audio', 'smell']):
        with pytest.raises(ValueError, match='modalities must be'):
            MissingModalities(bad)


def _samples(*missing):
    samples = []
    for names in missing:
        sample = ActionDataSample()
        if names:
            sample.set_metainfo(dict(missing_modalities=list(names)))
        samples.append(sample)
    return samples


def test_zeroing_is_per_sample():
    inputs = dict(audio=torch.ones(3, 2), video=torch.ones(3, 4))
    out = zero_missing_modalities(inputs, _samples(['audio'], [], ['video']))
    assert out['audio'].tolist() == [[0, 0], [1, 1], [1, 1]]
    assert out['video'].tolist() == [[1] * 4, [1] * 4, [0] * 4]
    assert inputs['audio'].all() and inputs['video'].all()  # not in place
    assert zero_missing_modalities(inputs, _samples([], [])) is inputs
    with pytest.raises(KeyError, match="'text'"):
        zero_missing_modalities(inputs, _samples(['text']))


def test_recognizer_zeroes_the_marked_input():
    """AVRecognizer's prediction of a sample marked as missing its audio is
    its prediction of that sample with the audio input zeroed."""
    torch.manual_seed(0)
    model = init_model(osp.join(REPO, 'configs', 'avtca_synth.py'))
    inputs = dict(
        video=torch.randn(2, 1, 3, 4, 112, 112),
        audio=torch.randn(2, 1, 1, 100, 10))
    zeroed = dict(inputs, audio=torch.zeros_like(inputs['audio']))
    with torch.no_grad():
        marked = model(inputs, _samples(['audio'], ['audio']), mode='predict')
        plain = model(zeroed, _samples([], []), mode='predict')
        clean = model(inputs, _samples([], []), mode='predict')
    for a, b, c in zip(marked, plain, clean):
        for key in ('fusion', 'video', 'audio'):
            assert torch.allclose(a.pred_score[key], b.pred_score[key])
        assert not torch.allclose(a.pred_score['fusion'],
                                  c.pred_score['fusion'])
