# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2's tools/deployment/publish_model.py (Apache-2.0).
"""Turn a training checkpoint into a published, weights-only checkpoint.

    python tools/deployment/publish_model.py work_dirs/avtca_synth/best.pth \
        --out-dir zoo/ [--name avtca_synth] \
        [--metafile --url-prefix https://host/mmemo/v0.1/]

writes ``zoo/avtca_synth_<YYYYMMDD>-<sha256[:8]>.pth`` holding only
``state_dict`` and a plain ``meta`` (classes, config text, versions, epoch):
no optimizer, message hub or scheduler state, nothing that needs more than
``torch.load(weights_only=True)``. Loading a file or URL so named makes
mmemo check the hash (``mmemo/utils/hub.py``). With ``--metafile`` the
model's ``Weights`` entry in its model-zoo metafile (found through
``model-index.yml``, or the path given) is set to ``URL_PREFIX/<file>``.
"""
import argparse
import os.path as osp
import re
import sys
from numbers import Number

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
META_KEYS = ('dataset_meta', 'cfg', 'experiment_name', 'epoch', 'iter', 'seed',
             'time', 'mmengine_version')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Publish a checkpoint: strip training state, keep the '
        'weights and plain metadata, name it <config>_<date>-<sha256[:8]>'
        '.pth')
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument(
        '--out-dir',
        help='where to write the published file (default: next to in_file)')
    parser.add_argument(
        '--name',
        help='config name (default: from the checkpoint\'s experiment '
        'name, i.e. the config file the run was started with)')
    parser.add_argument(
        '--date', help='YYYYMMDD in the file name (default: today)')
    parser.add_argument(
        '--metafile',
        nargs='?',
        const='auto',
        help='update the model\'s Weights URL in this metafile.yml (no '
        'value: the metafile that lists the model in model-index.yml)')
    parser.add_argument(
        '--url-prefix',
        help='URL folder the file will be uploaded to (with --metafile)')
    parser.add_argument(
        '--model-index',
        default=osp.join(REPO, 'model-index.yml'),
        help='model-index.yml used to find the metafile')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args()
    if args.metafile and not args.url_prefix:
        parser.error('--metafile needs --url-prefix')
    return args


def plain(value, where: str):
    """``value`` as builtin Python types, so weights-only loading needs no
    allow-list; NumPy scalars and arrays become numbers and lists."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, Number) or hasattr(value, 'tolist'):
        return value.tolist() if hasattr(value, 'tolist') else float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v, f'{where}[{i}]') for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): plain(v, f'{where}.{k}') for k, v in value.items()}
    raise TypeError(f'{where} is a {type(value).__name__}, which a '
                    'weights-only checkpoint cannot hold')


def config_name(meta: dict, in_file: str) -> str:
    """The config's name: the run's experiment name without its
    ``_YYYYMMDD_HHMMSS`` timestamp."""
    name = re.sub(r'_\d{8}_\d{6}$', '', meta.get('experiment_name') or '')
    if not name:
        raise SystemExit(
            f'{in_file} has no experiment name in its meta (not saved by '
            'an MMEngine runner?); give the config name with --name')
    return name


def publish(in_file: str,
            out_dir: str,
            name: str = None,
            date: str = None) -> str:
    """Write the published checkpoint; returns its path."""
    import mmemo  # noqa: F401  (checkpoint policy, safe globals)
    from mmemo.checkpoint import safe_torch_load
    from mmemo.version import __version__
    checkpoint = safe_torch_load(in_file, map_location='cpu')
    if 'state_dict' not in checkpoint:
        raise SystemExit(f'{in_file} has no state_dict: not a checkpoint '
                         'written by an MMEngine runner')
    meta = checkpoint.get('meta') or {}
    name = name or config_name(meta, in_file)
    dropped = [k for k in checkpoint if k not in ('state_dict', 'meta')]
    published = dict(
        meta=dict(
            plain({k: meta[k]
                   for k in META_KEYS if k in meta}, 'meta'),
            mmemo_version=__version__,
            config_name=name),
        state_dict={
            k: v.detach().cpu().clone()
            for k, v in checkpoint['state_dict'].items()
        })
    from mmemo.utils.publish import (published_date,
                                     save_published_checkpoint)
    try:
        date = published_date(date)
    except ValueError as error:
        raise SystemExit(str(error))
    final, sha = save_published_checkpoint(published, out_dir, name, date)
    print(f'dropped {", ".join(dropped) or "nothing"}; '
          f'{len(published["state_dict"])} tensors')
    print(f'sha256 {sha}')
    print(final)
    return final


def find_metafile(model_index: str, name: str) -> str:
    """The metafile that lists model ``name``, via ``model-index.yml``."""
    import yaml
    with open(model_index) as f:
        imports = (yaml.safe_load(f) or {}).get('Import') or []
    for rel in imports:
        path = osp.join(osp.dirname(model_index), rel)
        with open(path) as f:
            models = (yaml.safe_load(f) or {}).get('Models') or []
        if any(m.get('Name') == name for m in models):
            return path
    raise SystemExit(f'no metafile imported by {model_index} lists a model '
                     f'named {name!r}')


def set_weights_url(metafile: str, name: str, url: str) -> None:
    """Set ``Weights`` of model ``name`` in ``metafile`` (rewritten with
    yaml.safe_dump in its key order; metafiles hold no comments)."""
    import yaml
    with open(metafile) as f:
        data = yaml.safe_load(f)
    for model in data.get('Models') or []:
        if model.get('Name') == name:
            model['Weights'] = url
            break
    else:
        raise SystemExit(f'{metafile} lists no model named {name!r}')
    with open(metafile, 'w') as f:
        yaml.safe_dump(data, f, sort_keys=False, width=100)
    print(f'{metafile}: {name} Weights = {url}')


def main():
    args = parse_args()
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.in_file))
    final = publish(args.in_file, out_dir, args.name, args.date)
    if args.metafile:
        name = osp.basename(final).rsplit('_', 1)[0]
        metafile = args.metafile
        if metafile == 'auto':
            metafile = find_metafile(args.model_index, name)
        url = args.url_prefix.rstrip('/') + '/' + osp.basename(final)
        set_weights_url(metafile, name, url)


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    sys.exit(run_cli(main))
