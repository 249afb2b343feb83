# Copyright (c) mmemo contributors. All rights reserved.
"""Visualisation: TensorBoard logging switched on by a config, and the
per-class report (confusion matrix, F1 bars, JSON) of a ``--dump`` file.

One toy run (2 epochs, TensorBoard on, ``EmotionClsMetric``) serves all
tests; it trains in about 10 s on a CPU.
"""
import glob
import importlib.util
import io
import json
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
import torch
from helpers import (REPO, TOY_CONFIG, python_tool, read_test_metrics,
                     read_val_metrics)
from mmengine.config import Config

from mmemo.registry import VISUALIZERS
from mmemo.visualization import draw_confusion_matrix

TENSORBOARD_BASE = osp.join(REPO, 'configs', '_base_', 'tensorboard.py')
REPORT_TOOL = osp.join('analysis_tools', 'per_class_report.py')
NUM_CLASSES = 4  # configs/toy_av.py
EPOCHS = 2
ITERS_PER_EPOCH = 64 // 8  # train samples / batch size

# the toy config scored by mmemo's metric; validation every epoch
EMO_SETTINGS = f'''
val_evaluator = dict(type='EmotionClsMetric')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs={EPOCHS})
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(save_best='emo/war', rule='greater'))
'''


def load_tool(path: str):
    name = 'mmemo_tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """``tb``: the toy config on ``_base_/tensorboard.py`` instead of
    ``_base_/default_runtime.py``; ``plain``: the toy config as it is.
    Both with the settings above."""
    root = tmp_path_factory.mktemp('configs')
    with open(TOY_CONFIG) as f:
        text = f.read()
    assert "'./_base_/default_runtime.py'" in text
    (root / 'toy_tb.py').write_text(
        text.replace("'./_base_/default_runtime.py'", repr(TENSORBOARD_BASE)))
    paths = {}
    for name, base in (('tb', str(root / 'toy_tb.py')), ('plain', TOY_CONFIG)):
        path = root / f'emo_{name}.py'
        path.write_text(f'_base_ = [{base!r}]\n' + EMO_SETTINGS)
        paths[name] = str(path)
    return paths


@pytest.fixture(scope='module')
def tb_run(configs, tmp_path_factory):
    """Work dir of 2 epochs of the toy config with TensorBoard on."""
    work_dir = str(tmp_path_factory.mktemp('tb_run'))
    python_tool('train.py', configs['tb'], '--work-dir', work_dir)
    return work_dir


def event_accumulator(work_dir: str):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    files = glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    assert len(files) == 1, files
    events = EventAccumulator(files[0], size_guidance={'images': 0})
    events.Reload()
    return events


# ------------------------------------------------------------ TensorBoard
def test_tensorboard_base_config(configs):
    cfg = Config.fromfile(configs['tb'])
    assert cfg.visualizer == dict(
        type='AVVisualizer',
        vis_backends=[
            dict(type='LocalVisBackend'),
            dict(type='TensorboardVisBackend')
        ])
    plain = Config.fromfile(configs['plain'])
    assert plain.visualizer.vis_backends == [dict(type='LocalVisBackend')]
    # nothing else differs
    assert {k: v for k, v in cfg.items() if k != 'visualizer'} == \
        {k: v for k, v in plain.items() if k != 'visualizer'}


def test_tensorboard_events(tb_run):
    events = event_accumulator(tb_run)
    iters = list(range(1, EPOCHS * ITERS_PER_EPOCH + 1))
    for tag in ('loss', 'loss_cls', 'lr'):
        assert [e.step for e in events.Scalars(tag)] == iters, tag
    assert events.Scalars('lr')[0].value == pytest.approx(0.05)

    # the validation metrics per epoch, equal to the local scalars.json
    local = read_val_metrics(tb_run, key='emo/war')
    assert [m['step'] for m in local] == list(range(1, EPOCHS + 1))
    for metric in ('war', 'uar', 'macro_f1', 'weighted_f1'):
        scalars = events.Scalars(f'emo/{metric}')
        assert [e.step for e in scalars] == list(range(1, EPOCHS + 1))
        expected = [m[f'emo/{metric}'] for m in local]
        values = [e.value for e in scalars]
        assert values == pytest.approx(expected, abs=1e-6)

    # a confusion-matrix image per validation, at the epoch
    from PIL import Image
    images = events.Images('confusion_matrix')
    assert [i.step for i in images] == list(range(1, EPOCHS + 1))
    height, width = draw_confusion_matrix(
        np.eye(NUM_CLASSES, dtype=int),
        [f'class_{i}' for i in range(NUM_CLASSES)]).shape[:2]
    for image in images:
        png = Image.open(io.BytesIO(image.encoded_image_string))
        assert png.format == 'PNG'
        assert png.size == (width, height) == (image.width, image.height)
    # LocalVisBackend still writes its PNGs, under the same steps
    local_pngs = glob.glob(
        osp.join(tb_run, '*', 'vis_data', 'vis_image', 'confusion_matrix_*'))
    assert sorted(osp.basename(p) for p in local_pngs) == [
        f'confusion_matrix_{epoch}.png' for epoch in range(1, EPOCHS + 1)
    ]


def test_no_tensorboard_without_switch(configs, tmp_path):
    work_dir = str(tmp_path / 'work')
    python_tool('train.py', configs['plain'], '--work-dir', work_dir,
                '--cfg-options', 'train_cfg.max_epochs=1')
    assert not glob.glob(
        osp.join(work_dir, '**', '*tfevents*'), recursive=True)
    assert glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'vis_image',
                 'confusion_matrix_1.png'))


@pytest.mark.parametrize('option', [
    'visualizer.vis_backends=[LocalVisBackend,TensorboardVisBackend]',
    'visualizer.vis_backends=[dict(type="LocalVisBackend"),'
    'dict(type="TensorboardVisBackend")]'
])
def test_tensorboard_cfg_options(option, monkeypatch, tmp_path):
    """The documented ``--cfg-options`` strings, through tools/train.py's
    parser, build both backends (``DictAction`` makes strings of them)."""
    train = load_tool('train.py')
    monkeypatch.setattr(sys, 'argv',
                        ['train.py', TOY_CONFIG, '--cfg-options', option])
    cfg = train.merge_args(Config.fromfile(TOY_CONFIG), train.parse_args())
    visualizer = VISUALIZERS.build(
        dict(
            cfg.visualizer, name=f'test_{len(option)}',
            save_dir=str(tmp_path)))
    assert list(visualizer._vis_backends) == [
        'LocalVisBackend', 'TensorboardVisBackend'
    ]


def test_tensorboard_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'tensorboard', None)
    with pytest.raises(ImportError, match='pip install tensorboard'):
        VISUALIZERS.build(
            dict(
                type='AVVisualizer',
                name='missing_tensorboard_test',
                save_dir=str(tmp_path),
                vis_backends=[dict(type='TensorboardVisBackend')]))


# ----------------------------------------------------- per-class report
def test_per_class_report(configs, tb_run, tmp_path):
    from PIL import Image
    dump = str(tmp_path / 'results.pkl')
    test_dir = str(tmp_path / 'test')
    python_tool('test.py', configs['plain'], osp.join(tb_run, 'epoch_2.pth'),
                '--work-dir', test_dir, '--dump', dump)
    # the test run logs its confusion matrix too, at step 0
    assert glob.glob(
        osp.join(test_dir, '*', 'vis_data', 'vis_image',
                 'confusion_matrix_0.png'))
    out_dir = tmp_path / 'report'
    log = python_tool(REPORT_TOOL, dump, '--out-dir', str(out_dir), '--config',
                      configs['plain']).stdout
    for name in ('confusion_matrix', 'per_class_f1'):
        with Image.open(out_dir / f'results_{name}.png') as png:
            assert png.format == 'PNG' and min(png.size) > 0
    report = json.loads((out_dir / 'results_report.json').read_text())

    with open(dump, 'rb') as f:
        num_samples = len(pickle.load(f))
    matrix = np.array(report['confusion_matrix'])
    assert matrix.shape == (NUM_CLASSES, NUM_CLASSES)
    assert matrix.sum() == report['num_samples'] == num_samples == 32
    metrics = read_test_metrics(test_dir)
    for metric in ('war', 'uar', 'macro_f1', 'weighted_f1'):
        assert report[metric] == pytest.approx(metrics[f'emo/{metric}'])
    assert matrix.tolist() == metrics['emo/confusion_matrix']
    assert report['classes'] == [f'class_{i}' for i in range(NUM_CLASSES)]
    assert [r['name'] for r in report['per_class']] == report['classes']
    assert [r['support'] for r in report['per_class']] == [8] * NUM_CLASSES
    assert np.mean([r['f1'] for r in report['per_class']
                    ]) == pytest.approx(report['macro_f1'])
    assert f"WAR {report['war']:.4f}" in log and '| class_3 |' in log


def write_dump(path, samples) -> str:
    with open(path, 'wb') as f:
        pickle.dump(samples, f)
    return str(path)


def report_of(tool, monkeypatch, *argv):
    monkeypatch.setattr(sys, 'argv', ['per_class_report.py', *argv])
    return tool.run(tool.parse_args())


def test_per_class_report_modalities(monkeypatch, tmp_path):
    """``pred_score`` as a dict of modalities: ``fusion`` by default,
    ``--key`` for another; ``--classes``, ``--normalize``."""
    tool = load_tool(REPORT_TOOL)
    labels = [0, 0, 1, 1, 2, 2]
    fusion = [0, 0, 1, 1, 2, 1]
    audio = [0, 1, 1, 1, 0, 0]

    def onehot(index):
        return torch.eye(3)[index]

    dump = write_dump(tmp_path / 'av.pkl', [
        dict(
            gt_label=torch.tensor([t]),
            pred_score=dict(
                fusion=onehot(f), audio=onehot(a), video=onehot(t)))
        for t, f, a in zip(labels, fusion, audio)
    ])
    out = str(tmp_path / 'out')
    report = report_of(tool, monkeypatch, dump, '--out-dir', out, '--classes',
                       'neutral', 'happy', 'sad')
    assert report['key'] == 'fusion'
    assert report['confusion_matrix'] == [[2, 0, 0], [0, 2, 0], [0, 1, 1]]
    assert report['war'] == pytest.approx(5 / 6)
    happy = report['per_class'][1]
    assert happy['name'] == 'happy'
    assert happy['precision'] == pytest.approx(2 / 3)
    assert happy['recall'] == 1 and happy['f1'] == pytest.approx(0.8)

    report = report_of(tool, monkeypatch, dump, '--out-dir', out, '--key',
                       'audio', '--normalize')
    assert report['key'] == 'audio'
    assert report['classes'] == ['0', '1', '2']
    assert report['confusion_matrix'] == [[1, 1, 0], [0, 2, 0], [2, 0, 0]]
    assert report['confusion_matrix_normalized'][0] == [0.5, 0.5, 0.0]
    assert osp.isfile(osp.join(out, 'av_confusion_matrix.png'))


BAD_SAMPLES = [
    (dict(pred_score=torch.ones(3)), 'no gt_label'),
    (dict(pred_va=torch.zeros(5, 2),
          gt_va=torch.ones(5, 2)), 'regression outputs'),
    (dict(gt_label=torch.tensor([0.4]),
          pred_score=torch.ones(1)), 'not one class index'),
    (dict(gt_label=torch.tensor([1]),
          pred_score=dict(audio=torch.ones(3))), "no 'fusion' entry"),
]


@pytest.mark.parametrize('sample, message', BAD_SAMPLES)
def test_per_class_report_errors(sample, message, monkeypatch, tmp_path):
    tool = load_tool(REPORT_TOOL)
    dump = write_dump(tmp_path / 'bad.pkl', [sample])
    monkeypatch.setattr(sys, 'argv', ['per_class_report.py', dump])
    with pytest.raises(SystemExit) as error:
        tool.main()
    assert str(error.value.code).startswith(f'error: {dump}: ')
    assert message in str(error.value.code)
