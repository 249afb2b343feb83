# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2 (Copyright (c) OpenMMLab, Apache-2.0).
"""Print the whole config after `_base_` inheritance and overrides."""
import argparse

from mmengine import Config, DictAction

import mmemo  # noqa: F401  (compat shims; `mmemo::` / `mmaction::` bases)


def parse_args():
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        '--options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
