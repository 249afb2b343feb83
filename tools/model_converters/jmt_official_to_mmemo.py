# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official JMT fusion checkpoint (PoloWlg/Joint-Multimodal-
Transformer-6th-ABAW, models.two_transformers.Two_transformers, fusion_w.pt) to
mmemo weights for the head of configs/jmt_affwild2.py.

    python tools/model_converters/jmt_official_to_mmemo.py IN OUT [--help]

The rules are in ``mmemo/models/official/jmt.py``; see
docs/en/user_guides/official_checkpoints.md.
"""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    from mmemo.models.official.cli import main
    from mmemo.utils.cli import run_cli
    run_cli(lambda: main('jmt', REPO))
