# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official checkpoint of JCA's paper block (praveena2j/Joint-Cross-
Attention-for-Audio-Visual-Fusion, models.Jcam_512.CAM) to mmemo weights for
the head of configs/jca_affwild2.py.

    python tools/model_converters/jca_official_to_mmemo.py IN OUT [--help]

The rules are in ``mmemo/models/official/jca.py``; see
docs/en/user_guides/official_checkpoints.md.
"""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    from mmemo.models.official.cli import main
    from mmemo.utils.cli import run_cli
    run_cli(lambda: main('jca', REPO))
