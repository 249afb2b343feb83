# Copyright (c) mmemo contributors. All rights reserved.
"""`tools/train.py configs/avtca_{cremad,ravdess}.py` on CI-sized release
trees made of real GRID clips, then `tools/test.py` on the checkpoint."""
import os.path as osp

import pytest
from helpers import (REPO, make_cremad_tree, make_ravdess_tree, python_tool,
                     read_test_metrics, read_val_metrics)

# CREMA-D: fold 1 tests actors 1001-1018; val_subjects=1 takes 1091
CREMA_D = [
    '1001_DFA_ANG_XX', '1002_IEO_HAP_HI', '1030_TIE_SAD_XX', '1040_ITH_FEA_XX',
    '1050_WSI_NEU_XX', '1091_DFA_DIS_XX'
]
# RAVDESS (AVT-CA split): test actors 1-4, validation 5-8, training 9-24
RAVDESS = [
    '01-03-01-01-01-01', '01-05-02-02-01-02', '01-08-01-01-02-06',
    '01-04-01-01-01-10', '01-02-02-02-02-17', '01-06-01-02-01-24'
]

OVERRIDE = """
_base_ = ['{config}']
data_root = '{root}'
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root{extra}))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root{extra}))
test_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, split='test'{extra}))
train_cfg = dict(max_epochs=1)
"""


@pytest.mark.parametrize('dataset', ['cremad', 'ravdess'])
def test_train_and_test_on_release_trees(dataset, tmp_path):
    root = str(tmp_path / dataset)
    if dataset == 'cremad':
        make_cremad_tree(root, CREMA_D)
        extra = ', val_subjects=1'
    else:
        make_ravdess_tree(root, RAVDESS)
        extra = ''
    config = tmp_path / f'avtca_{dataset}_ci.py'
    config.write_text(
        OVERRIDE.format(
            config=osp.join(REPO, 'configs', f'avtca_{dataset}.py'),
            root=root,
            extra=extra))
    work_dir = str(tmp_path / 'work')
    # run from tmp_path: the face cache (data/face_cache) lands there
    python_tool(
        'train.py', str(config), '--work-dir', work_dir, cwd=str(tmp_path))
    val = read_val_metrics(work_dir, key='emo/war')
    assert [m['step'] for m in val] == [1]
    assert {'emo/war', 'emo/uar', 'emo/audio/war', 'emo/video/war'} <= \
        set(val[0])
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert (tmp_path / 'data' / 'face_cache').is_dir()

    test_dir = str(tmp_path / 'test')
    python_tool(
        'test.py',
        str(config),
        osp.join(work_dir, 'epoch_1.pth'),
        '--work-dir',
        test_dir,
        cwd=str(tmp_path))
    metrics = read_test_metrics(test_dir)
    assert 0 <= metrics['emo/war'] <= 1
    num_classes = 6 if dataset == 'cremad' else 8
    matrix = metrics['emo/confusion_matrix']
    assert len(matrix) == num_classes
    assert sum(map(sum, matrix)) == 2  # the two test clips
