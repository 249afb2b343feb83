# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official checkpoint of JCA as its code trains it
(praveena2j/Joint-Cross-Attention-for-Audio-Visual-Fusion, models.orig_cam.CAM,
cam_model.pt) to mmemo weights for the head of configs/jca_cam_affwild2.py.

    python tools/model_converters/jca_cam_official_to_mmemo.py IN OUT [--help]

The rules are in ``mmemo/models/official/jca_cam.py``; see
docs/en/user_guides/official_checkpoints.md.
"""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    from mmemo.models.official.cli import main
    from mmemo.utils.cli import run_cli
    run_cli(lambda: main('jca_cam', REPO))
