# Copyright (c) mmemo contributors. All rights reserved.
"""Valence/arousal sequence datasets (Aff-Wild2, RECOLA, synthetic) and the
transforms that turn a window of sub-clips into tensors."""
import os
import os.path as osp
import shutil
from collections import Counter

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from va_fixtures import (AFFWILD2_ANN_DIR, FACE_VIDEO, make_affwild2_tree,
                         make_recola_tree)

from mmemo.datasets import (AffWild2VADataset, BadSampleError, RecolaDataset,
                            SyntheticVADataset)
from mmemo.datasets.affwild2_va_dataset import (read_frames_fps,
                                                read_va_annotation)
from mmemo.datasets.recola_dataset import frame_labels, read_recola_ratings
from mmemo.datasets.transforms import (KaldiFbank, LoadFaceFrames,
                                       LogMelSpectrogram, NormalizeAudio,
                                       PackAVInputs, SampleSubClips,
                                       SubClipAudio)
from mmemo.utils.affwild2_va_txt import (UNANNOTATED, parse_va_annotation,
                                         va_annotation_text)

JCA_AUDIO = [
    dict(type='LoadAudio', sample_rate=44100),
    dict(type='SubClipAudio'),
    dict(
        type='LogMelSpectrogram',
        sample_rate=44100,
        n_fft=1024,
        win_length=882,
        hop_length=441,
        n_mels=64),
    dict(type='NormalizeAudio', mode='global', mean=-14.8, std=19.895),
]
PACK = dict(
    type='PackAVInputs', targets=dict(gt_va='gt_va', va_mask='va_mask'))


def jca_pipeline(source='video'):
    """The JCA/JMT pipeline: 8 frames at dilation 4 per sub-clip, 112x112,
    a 64-mel log-mel of the 32 frames' audio per sub-clip."""
    if source == 'video':
        frames = [
            dict(type='AVInit'),
            dict(type='SampleSubClips', clip_len=8, frame_interval=4),
            dict(type='AVDecode')
        ]
    else:
        frames = [
            dict(type='SampleSubClips', clip_len=8, frame_interval=4),
            dict(type='LoadFaceFrames')
        ]
    return frames + [
        dict(type='mmaction.Resize', scale=(112, 112), keep_ratio=False),
        *JCA_AUDIO,
        dict(type='mmaction.FormatShape', input_format='NCTHW'), PACK
    ]


def write_txt(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def touch(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('stub')  # not empty: an empty file is a bad sample


def all_infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.fixture(scope='module')
def affwild2(tmp_path_factory):
    return make_affwild2_tree(str(tmp_path_factory.mktemp('affwild2')))


@pytest.fixture(scope='module')
def recola(tmp_path_factory):
    return make_recola_tree(str(tmp_path_factory.mktemp('recola')))


def long_tree(root, lengths=(1100, 700), seed=0):
    """Aff-Wild2 annotations of long (empty stand-in) videos: random -5
    runs, and in the first video a whole 512-frame block unannotated."""
    rng = np.random.default_rng(seed)
    valid = {}
    for i, num in enumerate(lengths):
        name = f'{i + 1}-30-640x480'
        touch(osp.join(root, 'videos', f'{name}.mp4'))
        values = np.round(rng.uniform(-1, 1, (num, 2)), 3)
        for _ in range(5):
            start = int(rng.integers(0, num))
            values[start:start + int(rng.integers(1, 40))] = -5
        if i == 0:
            values[512:1024] = -5
        write_txt(
            osp.join(root, AFFWILD2_ANN_DIR, 'Train_Set', f'{name}.txt'),
            ['valence,arousal'] + [f'{v},{a}' for v, a in values])
        valid[name] = np.all(values >= -1, axis=1)
    return valid


# ----------------------------------------------------------- parsing
def test_read_va_annotation_masks_and_refuses_bad_files(tmp_path):
    path = str(tmp_path / 'a.txt')
    write_txt(
        path,
        ['valence,arousal', '0.5,-0.25', '-5,-5', '-5,0.1', '0.2,-7', ''])
    labels = read_va_annotation(path)
    assert labels.shape == (4, 2) and labels.dtype == np.float32
    assert labels[0].tolist() == [0.5, -0.25]
    bad = {
        'arousal,valence\n0.1,0.2': 'first line must be "valence,arousal"',
        'valence,arousal\n0.1,0.2\n0.3,0.4,0.5': 'line 3',
        'valence,arousal\n0.1,x': 'line 2',
        'valence,arousal\n0.1,5': 'line 2: value above 1',
        'valence,arousal\n': 'no frame line',
    }
    for text, message in bad.items():
        with open(path, 'w') as f:
            f.write(text)
        with pytest.raises(BadSampleError, match=message) as error:
            read_va_annotation(path)
        assert error.value.path == path


def test_va_annotation_text_round_trip():
    values = np.array([[0.5, -0.25], [0.1, 0.2], [-1, 1]], np.float32)
    valid = np.array([True, False, True])
    text = va_annotation_text(values, valid)
    assert text.splitlines() == [
        'valence,arousal', '0.500000,-0.250000', '-5,-5', '-1.000000,1.000000'
    ]
    labels = parse_va_annotation(text)
    np.testing.assert_array_equal(labels[valid], values[valid])
    assert (labels[~valid] == UNANNOTATED).all()
    assert va_annotation_text(values[:1], valid[:1], ('v', 'a')) == \
        'v,a\n0.500000,-0.250000\n'
    with pytest.raises(ValueError, match='line 3: expected'):
        parse_va_annotation('valence,arousal\n0.1,0.2\nx,1\n')


def test_frames_fps_csv(affwild2, tmp_path):
    table = read_frames_fps(affwild2['frames_fps'])
    assert table['1-25-360x288_left'] == 25.0
    path = str(tmp_path / 'f.csv')
    write_txt(path,
              ['name,frames,fps', '10-60-1280x720,2501,30.0', '102,4777,25.0'])
    assert read_frames_fps(path) == {'10-60-1280x720': 30.0, '102': 25.0}
    write_txt(path, ['10-60-1280x720,2501,30.0', '102,4777'])
    with pytest.raises(ValueError, match='line 2'):
        read_frames_fps(path)


def test_affwild2_video_table(affwild2):
    train = AffWild2VADataset(
        affwild2['root'], [], seq_len=4, frames_fps='frames_fps.csv')
    by_id = {v['video_id']: v for v in train.videos}
    assert sorted(by_id) == sorted(k for k, s in affwild2['splits'].items()
                                   if s == 'train')
    # _left and _right: two annotated faces, one video
    left, right = by_id['1-25-360x288_left'], by_id['1-25-360x288_right']
    assert left['filename'] == right['filename'] == \
        affwild2['videos']['1-25-360x288']
    assert by_id['3-25-360x288']['filename'].endswith(
        'batch2/3-25-360x288.mp4')
    for video_id, video in by_id.items():
        # -5 in either column (or any value < -1) masks the frame
        assert video['valid'].tolist() == \
            affwild2['valid'][video_id].tolist()
        assert video['num_annotated'] == affwild2['num_annotated'][video_id]
        assert video['num_frames'] == affwild2['num_frames'][video_id]
        assert video['fps'] == 25.0
        expected = affwild2['labels'][video_id]
        np.testing.assert_array_equal(video['labels'][video['valid']],
                                      expected[video['valid']])
        assert (video['labels'][~video['valid']] == -5).all()
    assert train.annotated_frames() == sum(
        n for k, n in affwild2['num_annotated'].items()
        if affwild2['splits'][k] == 'train')
    val = AffWild2VADataset(affwild2['root'], [], split='val', seq_len=4)
    assert [v['video_id'] for v in val.videos] == ['2-25-360x288']
    assert 'fps' not in val.videos[0]  # no frames_fps: AVInit's rate
    both = AffWild2VADataset(
        affwild2['root'], [], split=('train', 'val'), seq_len=4)
    assert len(both.videos) == 4
    with pytest.raises(ValueError, match='split_dirs'):
        AffWild2VADataset(affwild2['root'], [], split='test')


def test_affwild2_edition_folder(affwild2, tmp_path):
    """ABAW 2020/21 keep the same files in annotations/VA_Set."""
    root = str(tmp_path / 'abaw2020')
    shutil.copytree(
        osp.join(affwild2['root'], AFFWILD2_ANN_DIR),
        osp.join(root, 'annotations', 'VA_Set'))
    os.symlink(osp.join(affwild2['root'], 'videos'), osp.join(root, 'batch1'))
    os.symlink(osp.join(affwild2['root'], 'batch2'), osp.join(root, 'batch2'))
    with pytest.raises(FileNotFoundError, match='VA_Set'):
        AffWild2VADataset(root, [], split='val')
    val = AffWild2VADataset(
        root, [], split='val', ann_dir='annotations/VA_Set', seq_len=4)
    assert val.videos[0]['filename'].endswith('batch1/2-25-360x288.mp4')


# ----------------------------------------------------------- windows
def test_train_windows(tmp_path):
    root = str(tmp_path)
    valid = long_tree(root)
    dataset = AffWild2VADataset(root, [], with_audio=False)
    infos = all_infos(dataset)
    starts = {(i['video_id'], i['start']) for i in infos}
    # non-overlapping 512-frame windows; the unannotated block is dropped
    assert starts == {('1-30-640x480', 0), ('1-30-640x480', 1024),
                      ('2-30-640x480', 0), ('2-30-640x480', 512)}
    for info in infos:
        targets, gt, mask = info['target_frames'], info['gt_va'], \
            info['va_mask']
        assert targets.dtype == np.int64 and targets.shape == (16, )
        assert gt.dtype == np.float32 and gt.shape == (16, 2)
        assert mask.dtype == np.bool_ and mask.shape == (16, )
        assert mask.any()  # no window without a valid target
        expected = info['start'] + 31 + 32 * np.arange(16)
        real = expected < info['num_frames']
        assert targets.tolist() == np.where(real, expected, -1).tolist()
        assert mask.tolist() == [
            bool(r and valid[info['video_id']][t])
            for r, t in zip(real, expected)
        ]
        assert (gt[~mask] == -5).all()
    last = [i for i in infos if i['start'] == 1024][0]
    # 1100 frames: ends 1055 and 1087 are real, the rest padding
    assert (last['target_frames'] >= 0).sum() == 2
    # the labels live in the video table: the serialized entries are small
    assert len(dataset.data_bytes) < 100 * len(dataset)


def test_train_windows_random_offset(tmp_path):
    root = str(tmp_path)
    long_tree(root)
    dataset = AffWild2VADataset(root, [], with_audio=False, random_offset=True)
    np.random.seed(0)
    offsets = Counter()
    for _ in range(20):
        for info in all_infos(dataset):
            targets = info['target_frames']
            offset = info['offset']
            offsets[offset] += 1
            expected = info['start'] + offset + 32 * np.arange(16)
            assert targets.tolist() == np.where(expected < info['num_frames'],
                                                expected, -1).tolist()
            assert info['va_mask'].any()
    assert len(offsets) > 16 and set(offsets) <= set(range(32))


@pytest.mark.parametrize('seq_len,stride', [(16, 32), (4, 8), (3, 5)])
def test_dense_test_windows_cover_every_annotated_frame_once(
        tmp_path, seq_len, stride):
    root = str(tmp_path)
    valid = long_tree(root, lengths=(1100, 700, 37), seed=seq_len)
    dataset = AffWild2VADataset(
        root, [],
        with_audio=False,
        seq_len=seq_len,
        sub_clip_stride=stride,
        test_mode=True)
    seen, every = Counter(), Counter()
    for info in all_infos(dataset):
        targets = info['target_frames']
        assert info['va_mask'].any()
        real = targets[targets >= 0]
        assert (np.diff(real) == stride).all()
        every.update((info['video_id'], int(t)) for t in real)
        seen.update(
            (info['video_id'], int(t)) for t in targets[info['va_mask']])
    expected = {(name, int(t))
                for name, v in valid.items()
                for t in np.flatnonzero(v)}
    assert set(seen) == expected and set(seen.values()) == {1}
    assert sum(seen.values()) == dataset.annotated_frames()
    assert set(every.values()) == {1}  # no frame in two windows


def test_dense_test_windows_on_the_grid_tree(affwild2):
    for split in ('train', 'val'):
        dataset = AffWild2VADataset(
            affwild2['root'], [], split=split, seq_len=4, test_mode=True)
        seen = Counter()
        for info in all_infos(dataset):
            seen.update((info['video_id'], int(t))
                        for t in info['target_frames'][info['va_mask']])
        assert set(seen.values()) == {1}
        assert len(seen) == sum(n
                                for k, n in affwild2['num_annotated'].items()
                                if affwild2['splits'][k] == split)


# ------------------------------------------------------- transforms
def test_sample_sub_clips():
    out = SampleSubClips(
        clip_len=8, frame_interval=4)(
            dict(target_frames=np.array([3, 40, -1])))
    inds = out['frame_inds'].reshape(3, 8)
    assert inds[0].tolist() == [0] * 7 + [3]  # left-padded with frame 0
    assert inds[1].tolist() == list(range(12, 41, 4))
    assert inds[2].tolist() == inds[1].tolist()  # padding reuses the last
    assert out['num_clips'] == 3 and out['clip_len'] == 8
    # the annotation may be a frame longer than the decoded video
    clamped = SampleSubClips(
        clip_len=2, frame_interval=1)(
            dict(target_frames=np.array([75, 10]), total_frames=75))
    assert clamped['frame_inds'].tolist() == [74, 74, 9, 10]
    with pytest.raises(ValueError, match='no real target'):
        SampleSubClips()(dict(target_frames=np.array([-1, -1])))


def test_sub_clip_audio_cuts_the_audio_ending_with_each_target():
    rate, fps = 1000, 10.
    audio = np.arange(1, 2001, dtype=np.float32)  # sample i holds i + 1
    results = dict(
        audio=audio,
        audio_sample_rate=rate,
        avg_fps=fps,
        target_frames=np.array([0, 15, 21, -1]))
    out = SubClipAudio(span_frames=4)(dict(results))
    cuts = out['audio']
    assert cuts.shape == (4, 400) and cuts.dtype == np.float32
    # frame 0 ends at 0.1 s: 300 zeros (before the video), samples 0..99
    assert (cuts[0, :300] == 0).all() and cuts[0, 300:].tolist() == \
        list(range(1, 101))
    assert cuts[1].tolist() == list(range(1201, 1601))  # 1.2 .. 1.6 s
    # frame 21 ends at 2.2 s, 0.2 s after the 2 s track: zero-padded
    assert cuts[2, :200].tolist() == list(range(1801, 2001))
    assert (cuts[2, 200:] == 0).all()
    assert cuts[3].tolist() == cuts[2].tolist()  # padding reuses the last
    np.testing.assert_allclose(out['audio_windows'][1], [1.2, 1.6])
    # the track's own offset, a fixed duration, the sample's fps
    shifted = SubClipAudio(duration=0.25)(dict(
        results, audio_offset=0.05, avg_fps=None, fps=fps))['audio']
    assert shifted.shape == (4, 250)
    assert shifted[1].tolist() == list(range(1301, 1551))
    with pytest.raises(ValueError, match='frame rate'):
        SubClipAudio()(dict(results, avg_fps=None, filename='v.mp4'))


def test_audio_features_of_sub_clips():
    rng = np.random.default_rng(0)
    batch = rng.normal(0, 0.1, (3, 8000)).astype(np.float32)
    for feature in (LogMelSpectrogram(n_mels=40), KaldiFbank()):
        out = feature(dict(audio=batch, audio_sample_rate=16000))['audio']
        single = feature(dict(audio=batch[1],
                              audio_sample_rate=16000))['audio']
        assert out.ndim == 3 and out.shape[0] == 3
        np.testing.assert_allclose(out[1], single, rtol=1e-5, atol=1e-4)
    feats = rng.normal(5, 3, (3, 50, 8)).astype(np.float32)
    feats[1] += 100
    normed = NormalizeAudio()(dict(audio=feats))['audio']
    # per sub-clip and bin, over time
    np.testing.assert_allclose(normed.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(normed.std(axis=1), 1, atol=1e-3)
    packed = PackAVInputs(
        inputs=dict(audio='audio'),
        targets=dict(gt_va='gt_va', va_mask='va_mask'))(
            dict(
                audio=normed,
                gt_va=np.zeros((3, 2), np.float32),
                va_mask=np.array([True, False, True]),
                video_id='v_left',
                target_frames=np.array([31, 63, -1]),
                num_frames=70))
    assert packed['inputs']['audio'].shape == (3, 1, 50, 8)
    sample = packed['data_samples']
    assert sample.va_mask.dtype == torch.bool
    assert sample.va_mask.tolist() == [True, False, True]
    assert sample.gt_va.dtype == torch.float32
    assert sample.metainfo['video_id'] == 'v_left'
    assert sample.metainfo['num_frames'] == 70
    assert sample.metainfo['target_frames'].tolist() == [31, 63, -1]


# ------------------------------------------------- full pipelines
def test_jca_pipeline_on_real_clips(affwild2):
    with DefaultScope.overwrite_default_scope('mmemo'):
        train = AffWild2VADataset(affwild2['root'], jca_pipeline(), seq_len=4)
        test = AffWild2VADataset(
            affwild2['root'], jca_pipeline(), seq_len=4, test_mode=True)
        packed = train[0]
        inputs, sample = packed['inputs'], packed['data_samples']
        assert inputs['video'].shape == (4, 3, 8, 112, 112)
        # 32 frames at 25 fps = 1.28 s = 56448 samples -> 129 mel frames
        assert inputs['audio'].shape == (4, 1, 129, 64)
        assert sample.gt_va.shape == (4, 2) and sample.va_mask.shape == (4, )
        assert sample.va_mask.dtype == torch.bool
        meta = sample.metainfo
        assert meta['video_id'] == '1-25-360x288_left'
        assert meta['target_frames'].tolist() == [31, 63, -1, -1]
        assert meta['num_frames'] == 75
        assert meta['filename'] == affwild2['videos']['1-25-360x288']
        # frame 31's valence is -5: masked
        assert sample.va_mask.tolist() == [False, True, False, False]
        np.testing.assert_allclose(sample.gt_va[1].numpy(),
                                   affwild2['labels']['1-25-360x288_left'][63])
        # frame 75 is annotated but the video has 75 frames (0..74)
        index = next(i for i, info in enumerate(all_infos(test))
                     if info['video_id'] == '3-25-360x288'
                     and 75 in info['target_frames'])
        packed = test[index]
        assert packed['inputs']['video'].shape == (4, 3, 8, 112, 112)
        assert 75 in packed['data_samples'].metainfo['target_frames']


def test_load_face_frames_uses_the_nearest_face(affwild2, tmp_path):
    frame_dir = affwild2['frame_dir']
    load = LoadFaceFrames()
    out = load(dict(frame_dir=frame_dir, frame_inds=[0, 1, 2, 31, 33, 74]))
    # 0, 1 -> 2; 31 (between 29 and 33: a tie) -> 29; 74 -> 73
    assert out['face_fallback_frames'] == 3 + 0 + 1  # 0, 1, 31, 74
    expected = [2, 2, 2, 29, 33, 73]
    for img, index in zip(out['imgs'], expected):
        bgr = cv2.imread(osp.join(frame_dir, f'{index + 1:05d}.jpg'))
        assert np.array_equal(img, bgr[..., ::-1])  # RGB
    assert out['img_shape'] == (112, 112)
    assert load.num_fallback_frames == 4
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    with pytest.raises(BadSampleError, match='no image') as error:
        load(dict(frame_dir=empty, frame_inds=[0]))
    assert error.value.path == empty


def test_face_image_source(affwild2):
    with DefaultScope.overwrite_default_scope('mmemo'):
        val = AffWild2VADataset(
            affwild2['root'],
            jca_pipeline('frames'),
            split='val',
            source='frames',
            seq_len=4,
            test_mode=True)
        info = val.get_data_info(0)
        assert info['frame_dir'] == affwild2['frame_dir']
        assert info['fps'] == 25.0  # from the video's header
        packed = val[0]
    assert packed['inputs']['video'].shape == (4, 3, 8, 112, 112)
    assert packed['inputs']['audio'].shape == (4, 1, 129, 64)
    assert packed['data_samples'].metainfo['face_fallback_frames'] > 0
    # the train videos have no face folder
    with pytest.raises(BadSampleError, match='face image folder not found'):
        AffWild2VADataset(affwild2['root'], [], source='frames')
    skipping = AffWild2VADataset(
        affwild2['root'], [],
        split=('train', 'val'),
        source='frames',
        on_bad_sample='skip')
    assert [v['video_id'] for v in skipping.videos] == [FACE_VIDEO]
    assert skipping.skipped['face image folder not found'] == 3


# ------------------------------------------------------------ RECOLA
def test_recola_ratings_and_gold_standard(recola):
    path = osp.join(recola['root'], 'RECOLA-Annotation', 'emotional_behaviour',
                    'arousal', 'P16.csv')
    with open(path) as f:
        assert f.readline().strip() == 'time;FM1 ;FM2 ;FM3 ;FF1 ;FF2 ;FF3'
    times, ratings, raters = read_recola_ratings(path)
    assert raters == ['FM1', 'FM2', 'FM3', 'FF1', 'FF2', 'FF3']
    np.testing.assert_allclose(times, np.arange(75) * 0.04)
    np.testing.assert_allclose(ratings, recola['ratings']['P16']['arousal'])
    dataset = RecolaDataset(recola['root'], [], seq_len=4, sub_clip_stride=8)
    assert [v['video_id'] for v in dataset.videos] == ['P16', 'P17']
    for video in dataset.videos:
        # 25 Hz labels: row k = frame k; gold standard = mean of the raters
        assert video['num_frames'] == 75 and video['valid'].all()
        np.testing.assert_allclose(
            video['labels'], recola['gold'][video['video_id']], atol=1e-6)
        assert video['audio_path'].endswith(video['video_id'] + '.wav')
    only = RecolaDataset(recola['root'], [], subjects=[17], seq_len=4)
    assert [v['video_id'] for v in only.videos] == ['P17']
    info = only.get_data_info(0)
    assert info['subject'] == 'P17' and info['fps'] == 25.0
    # at 50 fps every label serves two frames
    doubled = frame_labels(times, np.arange(75.), fps=50.)
    assert len(doubled) == 149 and doubled[:5].tolist() == [0, 0, 1, 1, 2]


def test_recola_audio_per_sub_clip(recola):
    pipeline = JCA_AUDIO + [
        dict(type='PackAVInputs', inputs=dict(audio='audio'))
    ]
    with DefaultScope.overwrite_default_scope('mmemo'):
        dataset = RecolaDataset(
            recola['root'], pipeline, subjects=['P16'], seq_len=4)
        packed = dataset[0]
    assert packed['inputs']['audio'].shape == (4, 1, 129, 64)


def test_recola_errors(recola, tmp_path):
    root = str(tmp_path / 'recola')
    shutil.copytree(recola['root'], root)
    path = osp.join(root, 'RECOLA-Annotation', 'emotional_behaviour',
                    'valence', 'P17.csv')
    with open(path) as f:
        lines = f.read().splitlines()
    write_txt(path, ['time,FM1,FM2'] + lines[1:])
    with pytest.raises(BadSampleError, match='header') as error:
        RecolaDataset(root, [])
    assert error.value.path == path
    os.remove(osp.join(root, 'RECOLA-Video-recordings', 'P16.mp4'))
    with pytest.raises(BadSampleError, match='P16.mp4: file not found'):
        RecolaDataset(root, [], subjects=[16])


# ------------------------------------------------------------ errors
def test_errors_name_the_file(affwild2, tmp_path):
    root = str(tmp_path / 'bad')
    shutil.copytree(affwild2['root'], root)
    ann = osp.join(root, AFFWILD2_ANN_DIR, 'Train_Set')
    # an annotation whose video is missing
    orphan = osp.join(ann, '99-30-640x480.txt')
    write_txt(orphan, ['valence,arousal', '0.1,0.2'])
    with pytest.raises(BadSampleError, match='no video 99-30-640x480') as e:
        AffWild2VADataset(root, [])
    assert e.value.path == orphan
    dataset = AffWild2VADataset(root, [], on_bad_sample='skip')
    assert len(dataset.videos) == 3 and sum(dataset.skipped.values()) == 1
    os.remove(orphan)
    # another challenge's file in the VA folder
    wrong = osp.join(ann, '3-25-360x288.txt')
    write_txt(wrong, ['Neutral,Anger,Disgust', '0,1,0'])
    with pytest.raises(BadSampleError, match='valence,arousal') as e:
        AffWild2VADataset(root, [])
    assert e.value.path == wrong
    # nothing to read
    empty = str(tmp_path / 'empty')
    os.makedirs(osp.join(empty, AFFWILD2_ANN_DIR, 'Train_Set'))
    with pytest.raises(FileNotFoundError, match='no annotation .txt'):
        AffWild2VADataset(empty, [])
    # nothing annotated
    write_txt(
        osp.join(empty, AFFWILD2_ANN_DIR, 'Train_Set', 'x.txt'),
        ['valence,arousal'] + ['-5,-5'] * 40)
    touch(osp.join(empty, 'videos', 'x.mp4'))
    with pytest.raises(ValueError, match='no window with an annotated'):
        AffWild2VADataset(empty, [])


# --------------------------------------------------------- synthetic
def test_synthetic_va_dataset(tmp_path):
    root = str(tmp_path / 'synthetic_va')
    with DefaultScope.overwrite_default_scope('mmemo'):
        train = SyntheticVADataset(
            root, [], size='tiny', nproc=1, seq_len=4, sub_clip_stride=8)
        val = SyntheticVADataset(
            root,
            jca_pipeline(),
            size='tiny',
            split='val',
            audio='wav',
            seq_len=4,
            test_mode=True)
        ids = sorted(v['video_id'] for v in train.videos)
        assert ids == [
            '0001_VA_00_left', '0001_VA_00_right', '0001_VA_01', '0002_VA_00',
            '0002_VA_01'
        ]
        assert len({v['filename'] for v in train.videos}) == 4
        assert len(val.videos) == 2
        assert val.get_data_info(0)['audio_path'].endswith('.wav')
        packed = val[0]
    assert packed['inputs']['video'].shape == (4, 3, 8, 112, 112)
    assert packed['inputs']['audio'].shape == (4, 1, 129, 64)
