# Copyright (c) mmemo contributors. All rights reserved.
"""Convert an official CFN-SR checkpoint (skeletonNN/CFN-SR,
networks.msaf_ravdess.MSAFNet) to mmemo weights for configs/cfnsr_ravdess.py.

    python tools/model_converters/cfnsr_official_to_mmemo.py IN OUT [--help]

The rules are in ``mmemo/models/official/cfnsr.py``; see
docs/en/user_guides/official_checkpoints.md.
"""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':
    from mmemo.models.official.cli import main
    from mmemo.utils.cli import run_cli
    run_cli(lambda: main('cfnsr', REPO))
