# Copyright (c) mmemo contributors. All rights reserved.
"""The text stream: transcripts, HFTextEncoder, text feature extraction.

The encoder tests use a tiny random BERT written to a temporary folder with
``save_pretrained`` (nothing is downloaded); ``transformers`` is a test
requirement.
"""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from helpers import REPO, python_tool
from transformers import BertConfig, BertModel, BertTokenizer

import mmemo  # noqa: F401  (compat shims first)
from mmemo.apis import (duration_lookup, extract_text_features,
                        sequence_features_path)
from mmemo.datasets.transcripts import (EmptyTranscriptError, TranscriptError,
                                        TranscriptSegment, load_transcript,
                                        parse_maven_transcript,
                                        parse_mosei_transcript)
from mmemo.models import HFTextEncoder
from mmemo.registry import MODELS

WORDS = ('hello there i am happy sad so very much today the cat sat on a mat '
         'what you said no yes').split()
TEXTS = ['hello there', 'i am so very happy today', 'no']
GRID_VIDEO = osp.join(REPO, 'tests', 'data', 'grid', 'bbaf2n.mpg')  # 3.00 s


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory) -> str:
    """A tiny random BERT and its tokenizer, saved as a local HF folder."""
    path = tmp_path_factory.mktemp('tiny_bert')
    vocab = osp.join(path, 'vocab.txt')
    with open(vocab, 'w') as f:
        f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] +
                          WORDS) + '\n')
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64)
    BertModel(config).save_pretrained(path)
    BertTokenizer(vocab).save_pretrained(path)
    return str(path)


def _reference(model_dir, texts):
    """Last hidden states and mask of the same model, by hand."""
    tokenizer = BertTokenizer.from_pretrained(model_dir)
    model = BertModel.from_pretrained(model_dir).eval()
    batch = tokenizer(texts, padding=True, return_tensors='pt')
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # [N, L, D]
    return hidden, batch['attention_mask']


def test_pooling_modes_match_a_hand_computation(model_dir):
    hidden, mask = _reference(model_dir, TEXTS)
    assert (mask == 0).any(), 'the texts must be padded differently'
    masked = torch.stack([
        hidden[i, mask[i].bool()].mean(0) for i in range(len(TEXTS))
    ])  # [N, D]
    expected = dict(mean=masked, code=hidden.mean(1), cls=hidden[:, 0])
    outputs = {}
    for pooling, want in expected.items():
        encoder = HFTextEncoder(model_dir, pooling=pooling)
        outputs[pooling] = encoder(TEXTS)
        assert outputs[pooling].shape == (3, 32)
        torch.testing.assert_close(outputs[pooling], want)
    longest = int(mask.sum(1).argmax())
    padded = [i for i in range(3) if mask[i].sum() < mask.shape[1]]
    # without padding both means agree; with padding they differ
    torch.testing.assert_close(outputs['mean'][longest],
                               outputs['code'][longest])
    for i in padded:
        assert not torch.allclose(outputs['mean'][i], outputs['code'][i])
    # token ids in, same vectors out (mask from the pad token)
    encoder = HFTextEncoder(model_dir)
    ids = encoder.tokenize(TEXTS)
    torch.testing.assert_close(encoder(ids['input_ids']), outputs['mean'])
    torch.testing.assert_close(
        encoder(ids['input_ids'], ids['attention_mask']), outputs['mean'])
    # 'code' depends on the padding: alone, a text is not padded
    code = HFTextEncoder(model_dir, pooling='code')
    torch.testing.assert_close(
        code([TEXTS[padded[0]]])[0], outputs['mean'][padded[0]])
    code_max = HFTextEncoder(
        model_dir, pooling='code', padding='max_length', max_length=16)
    assert code_max.tokenize(TEXTS)['input_ids'].shape == (3, 16)
    assert encoder([]).shape == (0, 32)
    with pytest.raises(TypeError, match='list of texts'):
        encoder('hello there')


def test_truncation_to_max_length(model_dir):
    encoder = HFTextEncoder(model_dir, max_length=4)
    ids = encoder.tokenize([' '.join(WORDS)])['input_ids']
    assert ids.shape == (1, 4)
    assert encoder([' '.join(WORDS)]).shape == (1, 32)


def test_frozen_and_trainable(model_dir):
    encoder = MODELS.build(dict(type='HFTextEncoder', model_dir=model_dir))
    assert encoder.frozen and encoder.out_channels == 32
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert encoder.training and not encoder.model.training
    out = encoder(TEXTS[:2])
    assert not out.requires_grad
    # a Runner's init_weights must not re-draw the pretrained weights (the
    # HF model's own init_weights does, but for modules flagged as loaded)
    for module in encoder.modules():
        module.__dict__.pop('_is_hf_initialized', None)
    encoder.init_weights()
    torch.testing.assert_close(encoder(TEXTS[:2]), out)

    trainable = HFTextEncoder(model_dir, frozen=False).train()
    assert trainable.model.training
    out = trainable(TEXTS[:2])
    assert out.requires_grad
    out.sum().backward()
    assert trainable.model.embeddings.word_embeddings.weight.grad is not None


def test_refuses_what_is_not_a_local_model_folder(model_dir, tmp_path,
                                                  monkeypatch):
    with pytest.raises(FileNotFoundError, match='download the model first'):
        HFTextEncoder('roberta-base')
    with pytest.raises(FileNotFoundError, match='no config.json'):
        HFTextEncoder(str(tmp_path))
    # transformers is optional: a clear message when it is missing
    monkeypatch.setitem(sys.modules, 'transformers', None)
    with pytest.raises(ImportError, match='pip install "transformers'):
        HFTextEncoder(model_dir)


def test_mmaction_models_import_without_timm():
    import importlib.util
    has_timm = importlib.util.find_spec('timm') is not None
    assert ('multimodal_without_timm' in mmemo.compat.APPLIED) != has_timm
    from mmaction.registry import MODELS as MMACTION_MODELS
    assert MMACTION_MODELS.get('VindLUVQA') is not None


def _write(path, text) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


def test_maven_transcripts(tmp_path):
    path = _write(
        tmp_path / 'v.txt', '[0.00–1.50 s] hello there\n'
        '\n'
        '[1.5 - 3.25s]   i am happy  \n'
        '[4.0s–6.0s] no\n'
        '[6-6.5] \n')
    segments = parse_maven_transcript(path)
    # each segment runs from the previous end (the written 4.0 is unused)
    assert segments == [
        TranscriptSegment(0.0, 1.5, 'hello there'),
        TranscriptSegment(1.5, 3.25, 'i am happy'),
        TranscriptSegment(3.25, 6.0, 'no'),
        TranscriptSegment(6.0, 6.5, ''),
    ]
    assert load_transcript(path, 'maven') == segments

    empty = _write(tmp_path / 'empty.txt', '\n  \n')
    assert parse_maven_transcript(
        empty, duration=7.5) == [TranscriptSegment(0.0, 7.5, '')]
    with pytest.raises(EmptyTranscriptError, match='empty'):
        parse_maven_transcript(empty)

    bad = _write(tmp_path / 'bad.txt', '[0.0–1.0 s] fine\n0.0-2.0 oops\n')
    with pytest.raises(TranscriptError, match=r'bad\.txt:2: expected'):
        parse_maven_transcript(bad)
    backwards = _write(tmp_path / 'back.txt', '[0–2 s] a\n[1–1.5 s] b\n')
    with pytest.raises(TranscriptError, match=r'back\.txt:2: .*in order'):
        parse_maven_transcript(backwards)
    reversed_ = _write(tmp_path / 'rev.txt', '[3–2 s] a\n')
    with pytest.raises(TranscriptError, match=r'rev\.txt:1: .*before it'):
        parse_maven_transcript(reversed_)
    with pytest.raises(ValueError, match='unknown transcript format'):
        load_transcript(path, 'srt')


def test_mosei_transcripts(tmp_path):
    vid = '_a__b-c_'  # YouTube ids may hold underscores
    path = _write(
        tmp_path / f'{vid}.txt', f'{vid}___0___0.0___4.5___Hi, this is '
        f'a ___ test.\n'
        f'{vid}___1___4.5___9.25___second one\n'
        f'{vid}___3___12.0___13.0___\n')
    assert parse_mosei_transcript(path) == [
        TranscriptSegment(0.0, 4.5, 'Hi, this is a ___ test.'),
        TranscriptSegment(4.5, 9.25, 'second one'),
        TranscriptSegment(12.0, 13.0, ''),
    ]
    other = _write(tmp_path / 'x1.txt',
                   'x1___0___0___1___ok\nx2___1___1___2___other video\n')
    with pytest.raises(TranscriptError, match=r'x1\.txt:2: expected "x1___'):
        parse_mosei_transcript(other)
    bad = _write(tmp_path / 'x3.txt', 'x3___a___0___1___segment id\n')
    with pytest.raises(TranscriptError, match=r'x3\.txt:1:'):
        load_transcript(bad, 'mosei')
    empty = _write(tmp_path / 'x4.txt', '')
    with pytest.raises(TranscriptError, match='no segment'):
        parse_mosei_transcript(empty)


def _load(path):
    with np.load(path) as data:
        assert sorted(data.files) == ['features', 'intervals']
        return data['features'], data['intervals']


def test_extract_text_features_tool(model_dir, tmp_path):
    transcripts = tmp_path / 'transcripts'
    transcripts.mkdir()
    _write(
        transcripts / 'talk.txt', '[0.0–1.2 s] hello there\n'
        '[1.2–2.0 s] i am so very happy today\n[2.5–3.0 s] no\n')
    _write(transcripts / 'silent.txt', '')
    _write(transcripts / 'notes.md', 'not a transcript')
    videos = tmp_path / 'videos'
    videos.mkdir()
    os.symlink(GRID_VIDEO, videos / 'silent.mpg')
    out = tmp_path / 'features'

    proc = python_tool('misc/extract_text_features.py', str(transcripts),
                       model_dir, '--out', str(out), '--video-dir',
                       str(videos), '--batch-size', '2')
    assert '2 videos written (4 segments, 1 empty transcripts)' in \
        proc.stdout, proc.stdout
    assert 'features 32-d' in proc.stdout
    assert sorted(os.listdir(out)) == ['cache.json', 'silent.npz', 'talk.npz']

    encoder = HFTextEncoder(model_dir)
    features, intervals = _load(sequence_features_path(str(out), 'talk'))
    assert features.dtype == np.float32 and features.shape == (3, 32)
    assert intervals.dtype == np.float64
    np.testing.assert_allclose(intervals, [[0, 1.2], [1.2, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(
        features,
        encoder(['hello there', 'i am so very happy today', 'no']).numpy(),
        rtol=1e-5,
        atol=1e-5)
    features, intervals = _load(out / 'silent.npz')
    assert features.shape == (1, 32)
    np.testing.assert_allclose(intervals, [[0.0, 3.0]])  # the video's length
    np.testing.assert_allclose(features, encoder(['']).numpy(), atol=1e-5)
    with open(out / 'cache.json') as f:
        meta = json.load(f)
    assert meta['videos'] == dict(silent=1, talk=3)
    assert meta['text_features']['dim'] == 32
    assert meta['text_features']['pooling'] == 'mean'

    # resume: finished videos are skipped, a missing one is redone (its
    # duration now from a durations file)
    talk_mtime = os.stat(out / 'talk.npz').st_mtime_ns
    os.remove(out / 'silent.npz')
    durations = _write(tmp_path / 'durations.json', '{"silent": 7.5}')
    proc = python_tool('misc/extract_text_features.py', str(transcripts),
                       model_dir, '--out', str(out), '--durations', durations)
    assert '1 videos written (1 segments, 1 empty transcripts), ' \
        '1 already there' in proc.stdout, proc.stdout
    assert os.stat(out / 'talk.npz').st_mtime_ns == talk_mtime
    np.testing.assert_allclose(_load(out / 'silent.npz')[1], [[0.0, 7.5]])
    assert not [f for f in os.listdir(out) if f.endswith('.tmp')]

    # a folder made with other settings is refused
    with pytest.raises(ValueError, match='use another output folder'):
        extract_text_features(
            HFTextEncoder(model_dir, pooling='cls'),
            str(transcripts),
            str(out),
            progress=False)


def test_extract_needs_the_duration_of_empty_transcripts(model_dir, tmp_path):
    transcripts = tmp_path / 'transcripts'
    transcripts.mkdir()
    _write(transcripts / 'silent.txt', '\n')
    encoder = HFTextEncoder(model_dir)
    with pytest.raises(EmptyTranscriptError, match=r'silent\.txt: .*empty'):
        extract_text_features(
            encoder, str(transcripts), str(tmp_path / 'a'), progress=False)
    with pytest.raises(TranscriptError, match="no duration for video"):
        extract_text_features(
            encoder,
            str(transcripts),
            str(tmp_path / 'b'),
            duration_of=duration_lookup(video_dir=str(tmp_path)),
            progress=False)
    listed = _write(tmp_path / 'durations.txt', 'silent, 2.5\n\nother 1\n')
    stats = extract_text_features(
        encoder,
        str(transcripts),
        str(tmp_path / 'c'),
        duration_of=duration_lookup(listed),
        progress=False)
    assert stats == dict(videos=1, skipped=0, segments=1, empty=1, dim=32)
    np.testing.assert_allclose(
        _load(tmp_path / 'c' / 'silent.npz')[1], [[0.0, 2.5]])
    with pytest.raises(FileNotFoundError, match='no transcript'):
        extract_text_features(
            encoder, str(tmp_path / 'c'), str(tmp_path / 'd'), progress=False)


def test_extract_mosei_transcripts(model_dir, tmp_path):
    transcripts = tmp_path / 'Combined'
    transcripts.mkdir()
    _write(
        transcripts / 'a_b.txt', 'a_b___0___1.0___4.5___hello there\n'
        'a_b___1___3.0___9.25___i am happy\n')
    encoder = HFTextEncoder(model_dir, pooling='cls')
    stats = extract_text_features(
        encoder,
        str(transcripts),
        str(tmp_path / 'out'),
        fmt='mosei',
        progress=False)
    assert stats == dict(videos=1, skipped=0, segments=2, empty=0, dim=32)
    features, intervals = _load(tmp_path / 'out' / 'a_b.npz')
    np.testing.assert_allclose(intervals, [[1.0, 4.5], [3.0, 9.25]])
    np.testing.assert_allclose(
        features, encoder(['hello there', 'i am happy']).numpy(), atol=1e-5)
