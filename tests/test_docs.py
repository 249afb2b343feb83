# Copyright (c) mmemo contributors. All rights reserved.
"""The documentation site builds without warnings, uses a wide theme whose
tables and code blocks fit the page, and the code in the "adding a new fusion
head" guide runs."""
import glob
import os.path as osp
import re
import sys

import pytest
import torch
from helpers import REPO, run

DOCS = osp.join(REPO, 'docs', 'en')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """The site, built once for the tests of this module."""
    out = tmp_path_factory.mktemp('docs') / 'html'
    run([
        sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
        'html', DOCS,
        str(out)
    ])
    return out


def test_sphinx_site_builds_with_warnings_as_errors(site):
    out = site
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


def css_rules(text: str) -> dict:
    """``{selector: {property: value}}`` of a plain stylesheet (no @media)."""
    rules: dict = {}
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    for selectors, body in re.findall(r'([^{}]+)\{([^{}]*)\}', text):
        decls = dict(
            (k.strip(), v.strip())
            for k, v in (d.split(':', 1) for d in body.split(';') if ':' in d))
        for selector in selectors.split(','):
            rules.setdefault(' '.join(selector.split()), {}).update(decls)
    return rules


def test_site_uses_a_wide_theme_whose_tables_fit(site):
    """The layout checked at 1280 px in headless Chromium (see "The
    documentation site" in get_started/install.md): the Read-the-Docs theme
    with mmemo.css, so wide tables wrap their cells and tables and code blocks
    scroll inside their own box, never the page."""
    out = site
    assert (out / '_static' / 'css' / 'theme.css').is_file()  # the theme's
    for page in glob.glob(str(out / '**' / '*.html'), recursive=True):
        if osp.basename(page) in ('genindex.html', 'search.html'):
            continue
        html = open(page).read()
        assert 'wy-nav-content' in html, page
        link = r'<link[^>]+href="[./]*_static/mmemo\.css'
        assert re.search(link, html), page
    rules = css_rules((out / '_static' / 'mmemo.css').read_text())
    # a column wider than the theme's 800 px
    width = rules['.wy-nav-content']['max-width']
    assert width.endswith('px') and int(width[:-2]) >= 1000, width
    # cells wrap (the theme's nowrap would make every table scroll sideways),
    # long inline code in a cell too, so the table shrinks to the column
    for cell in ('td', 'th'):
        assert rules[f'.rst-content table.docutils {cell}'][
            'white-space'] == 'normal'
    code = rules['.rst-content table.docutils code']
    assert code['white-space'] == 'normal'
    assert code['overflow-wrap'] == 'anywhere'
    # what is still too wide scrolls inside its own box
    assert rules['.wy-table-responsive']['overflow-x'] == 'auto'
    assert rules['.rst-content table.docutils']['max-width'] == '100%'
    highlight = rules['.rst-content div[class^="highlight"]']
    assert highlight['overflow-x'] == 'auto'
    assert highlight['max-width'] == '100%'


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
