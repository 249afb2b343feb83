# Copyright (c) mmemo contributors. All rights reserved.
"""tools/data/{cremad,ravdess}: verify a release, write annotations/folds."""
import csv
import json
import os.path as osp
import shutil

from helpers import (REPO, make_cremad_tree, make_ravdess_tree, python_tool,
                     transcode)

from mmemo.datasets import CremaDDataset, RavdessDataset

DATA = osp.join(REPO, 'tests', 'data')


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_prepare_cremad(tmp_path):
    root = make_cremad_tree(
        str(tmp_path / 'CREMA-D'),
        ['1001_DFA_ANG_XX', '1020_IEO_HAP_HI', '1040_TIE_SAD_XX'])
    # one clip cloned without git-lfs, one whose wav is too short
    shutil.copy(
        osp.join(DATA, 'cremad', '1001_DFA_ANG_XX.wav.git-lfs-pointer.txt'),
        osp.join(root, 'AudioWAV', '1001_DFA_ANG_XX.wav'))
    transcode(
        osp.join(DATA, 'grid', 'lwbsza.mpg'),
        osp.join(root, 'AudioWAV', '1020_IEO_HAP_HI.wav'),
        video_codec=None,
        audio_codec='pcm_s16le',
        sample_rate=16000,
        layout='mono',
        max_seconds=1.0)
    shutil.copy(
        osp.join(DATA, 'cremad', 'SentenceFilenames.csv'),
        osp.join(root, 'SentenceFilenames.csv'))
    proc = python_tool('data/cremad/prepare_cremad.py', root, '--nproc', '2')
    out = osp.join(root, 'mmemo_annotations')
    assert '1 usable of 3 scanned, 2 with problems, 7439 missing' in \
        proc.stdout
    rows = read_csv(osp.join(out, 'annotations.csv'))
    assert [(r['video'], r['audio'], r['label'], r['subject']) for r in rows
            ] == [('1040_TIE_SAD_XX.flv', '1040_TIE_SAD_XX.wav', '5', '1040')]
    assert float(rows[0]['duration']) == 3.0 and rows[0]['fps'] == '25.0'
    report = json.load(open(osp.join(out, 'report.json')))
    problems = {
        osp.basename(p['path']): p['error']
        for p in report['problems']
    }
    assert 'git-lfs pointer' in problems['1001_DFA_ANG_XX.wav']
    assert 'audio track does not cover' in problems['1020_IEO_HAP_HI.wav']
    assert report['fold_sizes'][2] == dict(fold=3, train=0, test=1)
    assert len(read_csv(osp.join(out, 'fold3_test.csv'))) == 1
    # the annotation file drives the dataset class
    dataset = CremaDDataset(
        root, pipeline=[], ann_file='mmemo_annotations/annotations.csv')
    info = dataset.get_data_info(0)
    assert info['filename'] == osp.join(root, 'VideoFlash',
                                        '1040_TIE_SAD_XX.flv')
    assert info['audio_path'] == osp.join(root, 'AudioWAV',
                                          '1040_TIE_SAD_XX.wav')
    assert info['label'] == 5 and info['subject'] == 1040


def test_prepare_ravdess(tmp_path):
    root = make_ravdess_tree(
        str(tmp_path / 'RAVDESS'),
        ['01-03-01-01-01-01', '01-04-02-01-01-05', '01-01-01-02-02-24'])
    proc = python_tool('data/ravdess/prepare_ravdess.py', root, '--media',
                       'video+wav', '--nproc', '1')
    assert '3 usable of 3 scanned, 0 with problems' in proc.stdout
    out = osp.join(root, 'mmemo_annotations')
    rows = read_csv(osp.join(out, 'annotations.csv'))
    assert [r['video'] for r in rows] == [
        'Actor_01/02-01-03-01-01-01-01.mp4',
        'Actor_05/02-01-04-02-01-01-05.mp4',
        'Actor_24/02-01-01-01-02-02-24.mp4'
    ]
    assert [r['label'] for r in rows] == ['2', '3', '0']
    folds = [
        len(read_csv(osp.join(out, f'fold{k}_test.csv'))) for k in range(1, 7)
    ]
    assert folds == [1, 1, 0, 0, 0, 1]
    dataset = RavdessDataset(
        root,
        pipeline=[],
        ann_file='mmemo_annotations/fold6_test.csv',
        media='video+wav')
    assert dataset.get_data_info(0)['audio_path'] == osp.join(
        root, 'Actor_24', '03-01-01-01-02-02-24.wav')
