# Copyright (c) mmemo contributors. All rights reserved.
"""Sphinx configuration of mmemo's documentation site.

Build it (CI does, with warnings as errors):

    sphinx-build -W --keep-going -b html docs/en docs/en/_build/html
"""
import os.path as osp
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)


def _version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'mmemo', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


project = 'mmemo'
copyright = 'mmemo contributors'
author = 'mmemo contributors'
release = version = _version()

extensions = ['myst_parser', 'sphinx_copybutton']
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build']
# `[text](page.md#a-section)` links resolve to generated heading anchors
myst_heading_anchors = 4
myst_enable_extensions = ['colon_fence']

# The Read-the-Docs theme: a wide, PyTorch-style layout like OpenMMLab's
# sites (their pytorch_sphinx_theme is not on PyPI); requirements/docs.txt
# pins it.
html_theme = 'sphinx_rtd_theme'
html_title = f'mmemo {release}'
html_theme_options = {
    'navigation_depth': 3,
    'collapse_navigation': False,
}
# Wider text column, wrapping table cells, tables and code blocks that scroll
# inside their own box (tests/test_docs.py checks the site ships these rules).
html_static_path = ['_static']
html_css_files = ['mmemo.css']
copybutton_prompt_text = r'\$ '
copybutton_prompt_is_regexp = True
