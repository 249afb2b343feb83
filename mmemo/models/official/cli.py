# Copyright (c) mmemo contributors. All rights reserved.
"""The command line of ``tools/model_converters/<model>_official_to_mmemo.py``.

    python tools/model_converters/jca_cam_official_to_mmemo.py \
        cam_model.pt checkpoints/ [--config CONFIG] [--name NAME]

reads the official checkpoint ``IN`` and writes the converted weights to
``OUT/<name>_<YYYYMMDD>-<sha256[:8]>.pth`` (as
``tools/deployment/publish_model.py`` names its files): ``state_dict``
(whole-model keys, ``cls_head.`` included) and a plain ``meta``; it prints
the file's path last.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from .convert import Conversion, convert_official_checkpoint
from .layout import OfficialLayout


def _describe(layouts: Sequence[OfficialLayout]) -> str:
    first = layouts[0]
    variants = '' if len(layouts) == 1 else (
        ' Variants, told apart by their tensors: ' +
        ', '.join(f'{lay.name} ({lay.signature}.*)' for lay in layouts) + '.')
    return (f'Convert a checkpoint of {first.official_class} '
            f'({first.repo} @ {first.commit[:7]}) into mmemo weights for '
            f'{first.config}.{variants}')


def parse_args(layouts: Sequence[OfficialLayout],
               repo: str,
               argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    from mmemo.utils.cli import add_debug_argument
    parser = argparse.ArgumentParser(
        description=_describe(layouts),
        epilog='Official tensors the official model never uses are dropped; '
        'mmemo tensors with no official counterpart, and for head-only '
        'checkpoints the encoders, are not written: they keep the model\'s '
        'initialisation (a warning names them). tools/test.py does not '
        'initialise a model: see --fill-from-init. Details: '
        'docs/en/user_guides/official_checkpoints.md.')
    parser.add_argument(
        'in_file', metavar='IN', help='the official checkpoint file')
    parser.add_argument(
        'out_dir',
        metavar='OUT',
        help='folder to write the converted checkpoint to (created if '
        'needed), as OUT/<name>_<YYYYMMDD>-<sha256[:8]>.pth')
    parser.add_argument(
        '--config',
        default=osp.join(repo, layouts[0].config),
        help='the mmemo config whose model the weights are for; its model '
        'is built to check every name and shape (default: '
        f'{layouts[0].config})')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. '
        'model.fusion_head.aggregation=fc); test with the same options')
    parser.add_argument(
        '--name',
        help='name of the output file (default: the config\'s file name, '
        'e.g. ' + osp.splitext(osp.basename(layouts[0].config))[0] + ')')
    parser.add_argument(
        '--date', help='YYYYMMDD in the file name (default: today)')
    parser.add_argument(
        '--fill-from-init',
        action='store_true',
        help='also write the tensors the official checkpoint has no weights '
        'for, as the model\'s init_weights() sets them (e.g. the encoders '
        'from their init_cfg checkpoint, which must then be present), so '
        'that tools/test.py, which loads the checkpoint into an '
        'uninitialised model, gets every tensor')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    from mmemo.utils.publish import published_date
    try:
        args.date = published_date(args.date)
    except ValueError as error:
        parser.error(str(error))
    return args


def _report(conversion: Conversion, fill_from_init: bool) -> None:
    import sys
    layout = conversion.layout
    if conversion.dropped:
        print(f'dropped {len(conversion.dropped)} official tensor(s) the '
              f'official model never uses: {", ".join(conversion.dropped)}')
    if conversion.not_filled:
        where = ('filled from the model\'s initialisation'
                 if fill_from_init else 'not written: they keep the model\'s '
                 'initialisation')
        print(
            f'warning: {layout.name}: {len(conversion.not_filled)} mmemo '
            f'tensor(s) have no official counterpart, {where}: '
            f'{", ".join(conversion.not_filled)}',
            file=sys.stderr)
    if conversion.outside_scope:
        modules = sorted({k.split('.')[0] for k in conversion.outside_scope})
        where = ('filled from the model\'s initialisation (init_weights)'
                 if fill_from_init else 'not written: they keep the config\'s '
                 'initialisation (init_cfg) when the model is initialised; '
                 'tools/test.py does not initialise a model (test with a '
                 'config without them, e.g. a _cached one, or convert with '
                 '--fill-from-init)')
        print(
            f'warning: {layout.name}: the official checkpoint has only '
            f'{layout.scope}; {", ".join(m + ".*" for m in modules)} '
            f'({len(conversion.outside_scope)} tensors) are {where}',
            file=sys.stderr)


def main(model: str, repo: str, argv: Optional[Sequence[str]] = None) -> None:
    """Convert an official checkpoint of ``model`` (see the module doc).

    Args:
        model (str): A key of :data:`mmemo.models.official.OFFICIAL_LAYOUTS`.
        repo (str): The folder holding ``configs/`` (the repository, or
            ``mmemo/.mim`` when installed), for the default config.
        argv (Sequence[str], optional): The arguments; defaults to
            ``sys.argv[1:]``.
    """
    from mmemo.models.official import OFFICIAL_LAYOUTS
    from mmemo.utils.hub import file_sha256
    from mmemo.utils.publish import save_published_checkpoint
    from mmemo.version import __version__
    layouts = OFFICIAL_LAYOUTS[model]
    args = parse_args(layouts, repo, argv)
    conversion = convert_official_checkpoint(
        args.in_file,
        layouts,
        args.config,
        cfg_options=args.cfg_options,
        fill_from_init=args.fill_from_init)
    layout = conversion.layout
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    meta = dict(
        mmemo_version=__version__,
        config_name=name,
        config=osp.basename(args.config),
        cfg_options=dict(args.cfg_options or {}),
        official=dict(
            layout=layout.name,
            repo=layout.repo,
            commit=layout.commit,
            official_class=layout.official_class,
            file=osp.basename(args.in_file),
            sha256=file_sha256(args.in_file)),
        dropped_official=conversion.dropped,
        not_filled=[] if args.fill_from_init else conversion.not_filled)
    _report(conversion, args.fill_from_init)
    final, sha = save_published_checkpoint(
        dict(state_dict=conversion.state_dict, meta=meta), args.out_dir, name,
        args.date)
    print(f'{layout.name}: {len(conversion.state_dict)} tensors for '
          f'{args.config}')
    print(f'sha256 {sha}')
    print(final)
