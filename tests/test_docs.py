# Copyright (c) mmemo contributors. All rights reserved.
"""The documentation site builds without warnings, and the code in the
"adding a new fusion head" guide runs."""
import glob
import os.path as osp
import re
import sys

import torch
from helpers import REPO, run

DOCS = osp.join(REPO, 'docs', 'en')


def test_sphinx_site_builds_with_warnings_as_errors(tmp_path):
    out = tmp_path / 'html'
    run([
        sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
        'html', DOCS,
        str(out)
    ])
    # every page is in the site (an orphan page is a warning, so an error)
    pages = {
        osp.relpath(p, DOCS)[:-3]
        for p in glob.glob(osp.join(DOCS, '**', '*.md'), recursive=True)
        if '_build' not in p
    }
    for page in pages:
        assert (out / f'{page}.html').is_file(), page
    for page in ('user_guides/model_zoo', 'user_guides/inference',
                 'advanced_guides/add_fusion_head', 'get_started/install'):
        assert page in pages


def code_blocks(page: str, language: str = 'python') -> list:
    with open(osp.join(DOCS, page)) as f:
        text = f.read()
    return re.findall(rf'```{language}\n(.*?)```', text, re.S)


def test_add_fusion_head_guide_runs(tmp_path, monkeypatch):
    from mmengine.config import Config

    from mmemo.registry import MODELS
    from mmemo.utils import register_all_modules
    head_code, config_code = code_blocks('advanced_guides/add_fusion_head.md')
    project = tmp_path / 'my_project'
    project.mkdir()
    (project / '__init__.py').write_text('')
    (project / 'bi_cross_head.py').write_text(head_code)
    (project / 'bi_cross_synth.py').write_text(config_code)
    monkeypatch.syspath_prepend(str(tmp_path))
    register_all_modules()
    cfg = Config.fromfile(str(project / 'bi_cross_synth.py'))
    assert cfg.model.fusion_head.type == 'BiCrossAttentionHead'
    model = MODELS.build(cfg.model)
    assert type(model.cls_head).__name__ == 'BiCrossAttentionHead'
    # the synthetic recipe's inputs: 4 frames of 112x112, 2 s of 10 MFCCs
    inputs = dict(
        video=torch.rand(2, 1, 3, 4, 112, 112),
        audio=torch.randn(2, 1, 1, 87, 10))
    scores, _ = model.extract_feat(inputs, stage='head')
    assert scores.shape == (2, 6)
    # a training step through the recognizer: loss and gradients
    from mmaction.structures import ActionDataSample
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 4)]
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    head = model.cls_head
    assert head.fc_cls.weight.grad is not None
    assert head.audio_proj.weight.grad.abs().sum() > 0
