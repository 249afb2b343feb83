# Copyright (c) mmemo contributors. All rights reserved.
"""The official-checkpoint converters (``tools/model_converters``).

Each fixture in ``tests/data/official_keys`` lists an official model's
state dict (names, shapes) and the mmemo tensor each official one was
verified to become, with the transform. A fake official checkpoint (random
tensors of those shapes, saved as the official repository saves it) goes
through the real tool; the output must load into the model the config
builds and hold exactly the transformed official tensors.
"""
import json
import os.path as osp
import re

import pytest
import torch
from helpers import REPO, python_tool, read_test_metrics
from mmengine.config import Config

from mmemo.models.official import (OFFICIAL_LAYOUTS, OfficialCheckpointError,
                                   convert_state_dict, unwrap_state_dict)
from mmemo.models.official.cli import main
from mmemo.models.official.convert import (build_model, check_config,
                                           select_layout)
from mmemo.utils.cli import run_cli
from mmemo.utils.hub import file_sha256

FIXTURES = osp.join(REPO, 'tests', 'data', 'official_keys')
LAYOUTS = ('avtca', 'cfnsr', 'jca', 'jca_cam', 'jmt_fc', 'jmt_self_attn',
           'maven')
HALF = 512  # JCA CAM's audio and video streams


def facts(name: str) -> dict:
    with open(osp.join(FIXTURES, f'{name}.json')) as f:
        return json.load(f)


def config(fx: dict) -> Config:
    cfg = Config.fromfile(osp.join(REPO, fx['config']))
    cfg.merge_from_dict(fx.get('cfg_options', {}))
    return cfg


def official_state(fx: dict) -> dict:
    """Random tensors of the official shapes (the same for each call)."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    for key, shape, dtype, mmemo, _ in fx['official']:
        if dtype == 'int64':
            state[key] = torch.randint(0, 1000, shape, generator=gen)
        elif mmemo is None:  # dropped: cheap values will do
            state[key] = torch.full(shape, 0.5)
        else:
            state[key] = torch.randn(shape, generator=gen)
    return state


def as_saved(state: dict, saved_as: str):
    """The state dict in the container the official code saves."""
    if saved_as == 'state_dict+module':  # AVT-CA: main.py, DataParallel
        return dict(
            epoch=42,
            arch='multimodalcnn',
            state_dict={f'module.{k}': v
                        for k, v in state.items()},
            optimizer=dict(
                state={}, param_groups=[dict(lr=0.04, params=[0, 1])]),
            best_prec1=61.25)
    if saved_as == 'net':  # JCA CAM: main.py
        return dict(
            net=state,
            best_Val_accV=0.41,
            best_Val_accA=0.52,
            best_Val_acc_epoch=7)
    return state


def transformed(official: torch.Tensor, code: str) -> list:
    """The mmemo tensor(s) of an official one, as the facts describe the
    transform (written out, not with the converter's helpers)."""
    swap = torch.cat([torch.arange(HALF, 2 * HALF), torch.arange(HALF)])
    rows = official.shape[0] if official.dim() else 0
    if code == 'copy':
        return [official]
    if code == 'split_rows_k_v':  # fused k/v: rows [0, C) k, [C, 2C) v
        return [official[:rows // 2], official[rows // 2:]]
    if code == 'split_in_proj_qkv':  # q, k, v thirds
        e = rows // 3
        return [official[:e], official[e:2 * e], official[2 * e:]]
    if code == 'swap_halves_rows_cols':
        return [official[swap][:, swap]]
    if code == 'swap_halves':
        return [official[swap]]
    if code == 'swap_halves_cols':
        return [official[:, swap]]
    if code == 'column_blocks_2_1_0':
        return [
            torch.cat([
                official[:, 1024:1536], official[:, 512:1024],
                official[:, :512]
            ], 1)
        ]
    if code == 'init_hidden':  # rows [0, 4) h, [4, 8) c, new dim 1
        return [official[:4].unsqueeze(1), official[4:].unsqueeze(1)]
    raise ValueError(code)


def tool(fx: dict) -> str:
    return f'model_converters/{fx["converter"]}_official_to_mmemo.py'


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """``converted(name)``: (official file, output file, tool output) of
    one run of the tool per layout."""
    runs = {}

    def convert(name: str):
        if name not in runs:
            fx = facts(name)
            tmp = tmp_path_factory.mktemp(name)
            src = str(tmp / 'official.pth')
            torch.save(as_saved(official_state(fx), fx['saved_as']), src)
            options = [f'{k}={v}' for k, v in fx.get('cfg_options', {})
                       .items()]
            proc = python_tool(tool(fx), src, str(tmp / 'out'),
                               *(['--cfg-options', *options]
                                 if options else []))
            runs[name] = src, proc.stdout.splitlines()[-1], proc.stdout
        return runs[name]

    return convert


@pytest.mark.parametrize('name', LAYOUTS)
def test_converted_tensors_are_the_transformed_official_ones(
        name, converted):
    fx = facts(name)
    src, out, log = converted(name)
    # named as tools/deployment/publish_model.py names its files
    stem = osp.splitext(osp.basename(fx['config']))[0]
    assert re.fullmatch(rf'{stem}_\d{{8}}-[0-9a-f]{{8}}\.pth',
                        osp.basename(out))
    assert file_sha256(out).startswith(out[-12:-4])
    checkpoint = torch.load(out, map_location='cpu', weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert checkpoint['meta']['official']['sha256'] == file_sha256(src)
    state_dict = checkpoint['state_dict']

    # strict against the model of the config: what is missing is exactly
    # the encoders outside a head-only layout and the not-filled tensors
    model = build_model(config(fx))
    model_keys = list(model.state_dict())
    prefix = f'{fx["scope"]}.' if fx['scope'] else ''
    not_filled = {prefix + k for k in fx['not_filled']} & set(model_keys)
    missing, unexpected = model.load_state_dict(
        state_dict, strict=False, assign=True)
    assert unexpected == []
    # (BatchNorm fills in a missing num_batches_tracked itself)
    assert set(missing) == not_filled | {
        k
        for k in model_keys if not k.startswith(prefix)
        and not k.endswith('.num_batches_tracked')
    }
    for key in not_filled:
        assert key in log and 'warning' in log
    if fx['scope']:
        assert 'backbone.*' in log or set(missing) == not_filled

    # every tensor is the transformed official one; unused ones dropped
    official = official_state(fx)
    filled = set()
    for key, _, _, mmemo, code in fx['official']:
        if mmemo is None:
            assert key in log and key in checkpoint['meta'][
                'dropped_official']
            continue
        names = mmemo if isinstance(mmemo, list) else [mmemo]
        expected = transformed(official[key], code)
        assert len(expected) == len(names)
        for mmemo_key, value in zip(names, expected):
            assert torch.equal(state_dict[prefix + mmemo_key], value), key
            filled.add(prefix + mmemo_key)
    assert filled == set(state_dict)


def test_output_loads_as_tools_test_and_init_cfg_load_it(converted):
    from mmengine.runner import load_checkpoint

    from mmemo.registry import MODELS

    # tools/test.py: mmengine's load_checkpoint (mmemo's restricted,
    # hash-checking loader) into the whole model; MAVEN's is its head
    _, out, _ = converted('maven')
    model = build_model(config(facts('maven')), device='cpu')
    load_checkpoint(model, out, map_location='cpu', strict=True)
    state_dict = torch.load(out, weights_only=True)['state_dict']
    assert torch.equal(model.cls_head.norm.weight,
                       state_dict['cls_head.norm.weight'])

    # init_cfg=Pretrained on the head alone (prefix cls_head.): the JCA
    # block and valence regressor loaded, arousal keeps its initialisation
    _, out, _ = converted('jca')
    state_dict = torch.load(out, weights_only=True)['state_dict']
    head_cfg = dict(config(facts('jca')).model.fusion_head)
    head_cfg['init_cfg'] = dict(
        type='Pretrained', checkpoint=out, prefix='cls_head.')
    head = build_model(Config(dict(model=head_cfg)), device='cpu')
    arousal = head.arousal.layers[0].weight.clone()
    head.init_weights()
    assert torch.equal(head.jca.w_ca.weight,
                       state_dict['cls_head.jca.w_ca.weight'])
    assert torch.equal(head.valence.layers[0].weight,
                       state_dict['cls_head.valence.layers.0.weight'])
    assert torch.equal(head.arousal.layers[0].weight, arousal)
    assert MODELS.get('JCAHead') is type(head)


def run_tool(name: str, *args) -> int:
    """The tool's ``__main__`` (run_cli(main)) in this process."""
    argv = list(args)
    try:
        run_cli(lambda args: main(name, REPO, args), argv)
    except SystemExit as exit:
        return exit.code
    return 0


def test_unknown_and_missing_official_tensors_are_refused(tmp_path, capsys):
    fx = facts('jca')
    state = official_state(fx)
    state['W_extra.weight'] = torch.zeros(3, 3)
    del state['W_ca.weight']
    src = str(tmp_path / 'official.pth')
    torch.save(state, src)
    assert run_tool('jca', src, str(tmp_path / 'out')) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f'error: {src}: ')
    assert 'W_extra.weight' in error
    assert 'W_ca.weight (-> cls_head.jca.w_ca.weight)' in error
    assert not (tmp_path / 'out').exists()
    # each alone, and a shape that does not fit
    layout, = OFFICIAL_LAYOUTS['jca']
    model = build_model(config(fx))
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    for change, named in ((dict(W_extra=torch.zeros(1)), 'W_extra'),
                          ({'W_a.weight': None}, 'W_a.weight'),
                          ({'W_a.weight': torch.zeros(2, 2)}, 'W_a.weight')):
        broken = {**official_state(fx), **change}
        broken = {k: v for k, v in broken.items() if v is not None}
        with pytest.raises(OfficialCheckpointError, match=named):
            convert_state_dict(broken, layout, shapes, 'ckpt.pth')


def test_an_unreadable_input_is_one_error_line(tmp_path, capsys):
    missing = str(tmp_path / 'nothing.pth')
    assert run_tool('maven', missing, str(tmp_path / 'out')) == 1
    assert capsys.readouterr().err.strip() == \
        f'error: {missing}: file not found'
    torch.save(dict(epoch=3, lr=0.1), missing)
    assert run_tool('maven', missing, str(tmp_path / 'out')) == 1
    assert 'has no state dict' in capsys.readouterr().err


def test_jmt_variant_must_match_the_config():
    fc, self_attn = (facts(n) for n in ('jmt_fc', 'jmt_self_attn'))
    layouts = OFFICIAL_LAYOUTS['jmt']
    keys = [row[0] for row in fc['official']]
    layout = select_layout(keys, layouts, 'fusion_w.pt')
    assert layout.name == 'jmt_fc'
    assert select_layout([r[0] for r in self_attn['official']], layouts,
                         'x').name == 'jmt_self_attn'
    cfg = Config.fromfile(osp.join(REPO, fc['config']))
    with pytest.raises(OfficialCheckpointError) as error:
        check_config(layout, cfg, 'configs/jmt_affwild2.py', 'fusion_w.pt')
    assert "aggregation='fc'" in str(error.value)
    assert '--cfg-options model.fusion_head.aggregation=fc' in str(
        error.value)
    cfg.merge_from_dict(fc['cfg_options'])
    check_config(layout, cfg, 'configs/jmt_affwild2.py', 'fusion_w.pt')


def test_fill_from_init_writes_every_tensor(tmp_path, capsys):
    fx = facts('jca')
    cfg_file = tmp_path / 'jca_no_tsav.py'
    # the encoders' TSAV weights are not here: torchvision's init instead
    cfg_file.write_text(
        f"_base_ = ['{osp.join(REPO, fx['config'])}']\n"
        'model = dict(visual_encoder=dict(init_cfg=None), '
        'audio_encoder=dict(init_cfg=None))\n')
    src = str(tmp_path / 'official.pth')
    torch.save(official_state(fx), src)
    assert run_tool('jca', src, str(tmp_path / 'out'), '--config',
                    str(cfg_file), '--fill-from-init', '--name', 'jca') == 0
    out = capsys.readouterr().out.splitlines()[-1]
    assert osp.basename(out).startswith('jca_')
    state_dict = torch.load(out, weights_only=True)['state_dict']
    model = build_model(Config.fromfile(str(cfg_file)))
    model.load_state_dict(state_dict, assign=True, strict=True)
    assert torch.equal(state_dict['cls_head.jca.w_ca.weight'],
                       official_state(fx)['W_ca.weight'])


def test_state_dict_is_found_in_the_usual_containers():
    weights = {'fc.weight': torch.ones(2, 2), 'fc.bias': torch.zeros(2)}
    prefixed = {f'module.{k}': v for k, v in weights.items()}
    for saved in (weights, prefixed, dict(state_dict=prefixed, epoch=3),
                  dict(model=weights), dict(net=dict(model=prefixed))):
        assert unwrap_state_dict(saved, 'x').keys() == weights.keys()
    for saved in (dict(epoch=3), [weights], {}):
        with pytest.raises(OfficialCheckpointError, match='x: '):
            unwrap_state_dict(saved, 'x')


def test_tools_test_runs_a_converted_checkpoint(tmp_path, converted):
    """``tools/test.py CONFIG CKPT`` with a converted MAVEN checkpoint on an
    Aff-Wild2-shaped feature tree: every tensor loads (no missing or
    unexpected key reported) and the metrics come out."""
    from test_maven import maven_affwild2_tree
    _, out, _ = converted('maven')
    tree, cfg = maven_affwild2_tree(tmp_path)
    work_dir = str(tmp_path / 'test')
    proc = python_tool(
        'test.py', cfg, out, '--work-dir', work_dir, cwd=str(tmp_path))
    log = proc.stdout  # stderr merged in
    assert 'Load checkpoint from' in log
    assert 'missing keys' not in log and 'unexpected key' not in log
    metrics = read_test_metrics(work_dir)
    # the test loader is the validation one: its video's annotated frames
    assert metrics['va/num_frames'] == tree['num_annotated']['2-25-360x288']
    assert 'va/ccc_mean' in metrics
