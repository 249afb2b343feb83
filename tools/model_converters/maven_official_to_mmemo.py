# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official MAVEN checkpoint (Vrushank-Ahire/MAVEN_8th_ABAW,
codes/Train_MLP.py MultiModalEmotionModel, best_model.pth) to mmemo weights for
the head of configs/maven_affwild2.py.

    python tools/model_converters/maven_official_to_mmemo.py IN OUT [--help]

The rules are in ``mmemo/models/official/maven.py``; see
docs/en/user_guides/official_checkpoints.md.
"""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    from mmemo.models.official.cli import main
    from mmemo.utils.cli import run_cli
    run_cli(lambda: main('maven', REPO))
