# Copyright (c) mmemo contributors. All rights reserved.
"""``tools/data/check_dataset.py`` on release trees with the problems real
releases have, then training and testing with its exclusion list."""
import json
import os.path as osp

from helpers import (make_cremad_tree, make_ravdess_tree, python_tool,
                     read_test_metrics, train_then_test)
from test_avtca_configs import CREMA_D, RAVDESS, ci_config

from mmemo.datasets.errors import TEST_SET_FIX

LFS_POINTER = ('version https://git-lfs.github.com/spec/v1\noid sha256:'
               f'{"0" * 64}\nsize 1234\n')


def check(config: str, out_dir: str, tmp_path, *extra) -> tuple:
    proc = python_tool('data/check_dataset.py', config, '--workers', '2',
                       '--out-dir', out_dir, *extra, cwd=str(tmp_path))
    with open(osp.join(out_dir, 'report.json')) as f:
        report = json.load(f)
    return report, proc.stdout


def by_file(report: dict) -> dict:
    return {osp.basename(r['file']): r for r in report['samples']}


def test_check_ravdess_tree_then_train_and_test_with_its_exclusions(
        tmp_path):
    root = str(tmp_path / 'ravdess')
    # test: actors 1, 2; val: 6; train: 10, 17, 24. Actor 10's audio is
    # 1.5 s shorter than its video (beyond the 1-s tolerance), actor 24's
    # 0.6 s (within it)
    make_ravdess_tree(root, RAVDESS[:5], short_audio=(3, ), audio_cut=1.5)
    make_ravdess_tree(
        root, RAVDESS[5:], short_audio=(0, ), audio_cut=0.6)
    lfs = osp.join(root, 'Actor_02', '01-01-05-02-02-01-02.mp4')
    with open(lfs, 'w') as f:
        f.write(LFS_POINTER)
    truncated = osp.join(root, 'Actor_17', '01-01-02-02-02-02-17.mp4')
    with open(truncated, 'rb') as f:
        data = f.read()
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) // 2])
    config = ci_config(tmp_path, 'avtca_ravdess.py', data_root=root)
    out_dir = str(tmp_path / 'check')
    report, stdout = check(config, out_dir, tmp_path)

    samples = by_file(report)
    assert samples['01-01-05-02-02-01-02.mp4']['status'] == 'bad'
    assert 'git-lfs pointer' in samples['01-01-05-02-02-01-02.mp4'][
        'problem']
    assert samples['01-01-02-02-02-02-17.mp4']['status'] == 'bad'
    assert 'moov atom not found' in samples['01-01-02-02-02-02-17.mp4'][
        'problem']
    mismatch = samples['01-01-04-01-01-01-10.mp4']
    assert mismatch['status'] == 'bad'
    assert 'audio track does not cover 1.5' in mismatch['problem']
    padded = samples['01-01-06-01-02-01-24.mp4']
    assert padded['status'] == 'ok' and 0.55 < padded['audio_padded'] < 0.65
    good = samples['01-01-03-01-01-01-01.mp4']
    assert good['status'] == 'ok' and good['audio_padded'] == 0
    assert good['video_codec'] == 'h264' and good['fps'] == 25
    # the config reads the audio-only 03-*.wav beside the video
    assert good['audio_codec'] == 'pcm_s16le' and good['audio_channels'] == 2
    assert good['faces_found'] == good['face_frames'] > 0
    assert report['splits']['train']['bad'] == 2
    assert report['splits']['test']['bad'] == 1
    assert report['splits']['train']['audio_padded_s']['count'] == 1
    with open(osp.join(out_dir, 'exclude.txt')) as f:
        listed = [line.split('#')[0].strip() for line in f
                  if not line.startswith('#')]
    assert sorted(listed) == [
        'Actor_02/01-01-05-02-02-01-02.mp4',
        'Actor_10/01-01-04-01-01-01-10.mp4',
        'Actor_17/01-01-02-02-02-02-17.mp4'
    ]
    assert 'bad: ' + lfs in stdout
    # resumable: a second run takes the records of the first
    again, stdout = check(config, out_dir, tmp_path)
    assert '(3 checked by an earlier run)' in stdout
    assert by_file(again) == samples

    # the test set is fixed up front: without the list the test run stops
    # at build time naming the pointer and the fix, in one line
    (tmp_path / 'excluded').mkdir()
    excluded = ci_config(
        tmp_path / 'excluded',
        'avtca_ravdess.py',
        data_root=root,
        exclude_file=osp.join(out_dir, 'exclude.txt'))
    _, work_dir, test_dir = train_then_test(excluded, tmp_path)
    assert sum(map(sum, read_test_metrics(test_dir)[
        'emo/confusion_matrix'])) == 1  # actor 1's clip
    proc = python_tool(
        'test.py',
        config,
        osp.join(work_dir, 'epoch_1.pth'),
        '--work-dir',
        str(tmp_path / 'test_all'),
        cwd=str(tmp_path),
        check=False)
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f'error: {lfs}: is a git-lfs pointer')
    assert last.endswith(TEST_SET_FIX)


def test_check_cremad_tree_lists_the_known_broken_clips(tmp_path):
    root = str(tmp_path / 'cremad')
    make_cremad_tree(root, CREMA_D + ['1076_MTI_SAD_XX'])
    config = ci_config(
        tmp_path, 'avtca_cremad.py', data_root=root, val_subjects=1)
    report, stdout = check(config, str(tmp_path / 'check'), tmp_path,
                           '--split', 'train')
    samples = by_file(report)
    broken = samples['1076_MTI_SAD_XX.flv']
    assert broken['status'] == 'left out'
    assert 'known broken CREMA-D clip' in broken['problem']
    assert [r['status'] for r in report['samples']].count('ok') == 3
    assert set(report['splits']) == {'train'}
