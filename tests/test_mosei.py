# Copyright (c) mmemo contributors. All rights reserved.
"""CMU-MOSEI from its three released forms (MMSA/MulT pickles, SDK ``.csd``
files, segmented videos) and the AVT-CA MOSEI configs on them."""
import os
import os.path as osp
import pickle
import shutil
from collections import Counter

import numpy as np
import pytest
import torch
from helpers import REPO, read_test_metrics, read_val_metrics, train_then_test
from mmengine import Config, DefaultScope
from mmengine.dataset import pseudo_collate
from mosei_fixtures import (COVAREP_HZ, FACET_HZ, MOVED, NO_FOLD_VIDEO, VIDEOS,
                            official_folds, write_csd, write_mmsa_pickle,
                            write_mosei_csd, write_mosei_raw,
                            write_mult_pickle)
from test_avtca_configs import ci_config

from mmemo.datasets import (BadSampleError, BaseMoseiDataset, MoseiCsdDataset,
                            MoseiPickleDataset, MoseiRawDataset)
from mmemo.datasets.mosei_sources import STANDARD_FOLDS, load_folds
from mmemo.registry import DATASETS, METRICS, MODELS

CSD = ('CMU_MOSEI_Labels.csd', 'CMU_MOSEI_COVAREP.csd',
       'CMU_MOSEI_VisualFacet42.csd')


@pytest.fixture(scope='module')
def mosei(tmp_path_factory):
    """Every fixture layout, written once."""
    root = tmp_path_factory.mktemp('mosei')
    out = dict(root=str(root))
    out['aligned'] = write_mmsa_pickle(str(root / 'Processed/aligned_50.pkl'))
    out['unaligned'] = write_mmsa_pickle(
        str(root / 'Processed/unaligned_50.pkl'), aligned=False)
    out['mult'] = write_mult_pickle(str(root / 'mosei_senti_data.pkl'))
    out['csd'] = write_mosei_csd(str(root / 'csd'))
    return out


def build(ann_file, dataset=MoseiPickleDataset, **kwargs):
    return dataset(ann_file, pipeline=[], **kwargs)


def infos(dataset) -> list:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def csd_dataset(mosei, kind='unaligned', **kwargs):
    files = mosei['csd'][kind]
    kwargs.setdefault('seq_lens', dict(audio=300, video=100))
    return build(
        files['CMU_MOSEI_Labels.csd'],
        dataset=MoseiCsdDataset,
        features=dict(
            audio=files['CMU_MOSEI_COVAREP.csd'],
            video=files['CMU_MOSEI_VisualFacet42.csd']),
        **kwargs)


# ------------------------------------------------------------------ folds
def test_shipped_official_folds():
    folds = load_folds()
    assert Counter(folds.values()) == dict(train=2249, valid=300, test=678)
    assert load_folds(STANDARD_FOLDS) == folds
    for split, videos in VIDEOS.items():
        assert all(folds[v] == split for v in videos)
    assert osp.isfile(
        osp.join(osp.dirname(STANDARD_FOLDS), 'CMU-MultimodalSDK_LICENSE.txt'))


def test_one_registered_class_per_form():
    """Each released form has its class; only a pickle has its own split."""
    for name in ('MoseiPickleDataset', 'MoseiCsdDataset', 'MoseiRawDataset'):
        assert issubclass(DATASETS.get(name), BaseMoseiDataset)
    csd = dict(features=dict(audio='a.csd'), seq_lens=dict(audio=1))
    for dataset, kwargs in ((MoseiCsdDataset, csd), (MoseiRawDataset, {})):
        with pytest.raises(
                ValueError,
                match=f"split_by='source' needs a pickle: "
                f'{dataset.__name__} has no split of its own'):
            build('labels.csd', dataset, split_by='source', **kwargs)


# ---------------------------------------------------------------- pickles
def test_mmsa_aligned_pickle(mosei):
    root = mosei['root']
    data = mosei['aligned']['train']
    dataset = build('Processed/aligned_50.pkl', data_root=root)
    # the pickle's own train split: the 8 training segments + MOVED
    assert len(dataset) == len(data['id']) == 9
    # checked against the official folds: MOVED is a valid video, the test
    # split holds a video of no fold
    assert dataset.fold_mismatches == {'train->valid': 1, 'test->none': 1}
    lengths = data['audio_lengths']
    for i, info in enumerate(infos(dataset)):
        assert f'{info["video_id"]}$_${info["segment"]}' == data['id'][i]
        assert info['targets'].shape == (7, )
        assert info['targets'][0] == data['regression_labels'][i]
        assert np.isnan(info['targets'][1:]).all()  # sentiment only
        assert info['audio'].shape == (50, 74)
        assert info['video'].shape == (50, 35)
        real = info['audio_mask']
        assert real.sum() == info['audio_length'] == lengths[i]
        assert real[:lengths[i]].all()  # MMSA pads at the end
        assert (info['audio'][real, 0] == i + 1).all()
        assert (info['audio'][~real] == 0).all()
        assert np.isfinite(info['audio']).all()  # COVAREP's -inf -> 0
        assert info['video_length'] == data['vision_lengths'][i]
    assert np.isinf(data['audio']).any()
    assert {i['split'] for i in infos(dataset)} == {'train'}
    valid = build(
        'Processed/aligned_50.pkl', data_root=root, split='val')  # alias
    assert len(valid) == 3


def test_mmsa_pickle_by_official_folds(mosei):
    path = osp.join(mosei['root'], 'Processed/aligned_50.pkl')
    sizes = {}
    for split in ('train', 'valid', 'test'):
        dataset = build(path, split=split, split_by='official')
        sizes[split] = len(dataset)
        folds = official_folds()[split]
        assert all(i['video_id'] in folds for i in infos(dataset))
    # MOVED back in valid; the segment of no fold is left out
    assert sizes == dict(train=8, valid=4, test=4)
    names = [
        i['name']
        for i in infos(build(path, split='valid', split_by='official'))
    ]
    assert f'{MOVED[0]}$_${MOVED[1]}' in names
    assert NO_FOLD_VIDEO not in str(names)


def test_mmsa_unaligned_pickle_and_text(mosei):
    data = mosei['unaligned']['test']
    dataset = build(
        osp.join(mosei['root'], 'Processed/unaligned_50.pkl'),
        split='test',
        features=dict(audio='audio', video='vision', text='text'))
    assert len(dataset) == 5  # 4 + the video of no fold
    for i, info in enumerate(infos(dataset)):
        assert info['audio'].shape == (500, 74)
        assert info['video'].shape == (375, 35)
        assert info['text'].shape == (50, 768)
        assert info['audio_length'] == data['audio_lengths'][i]
        assert info['video_length'] == data['vision_lengths'][i]
        # text: BERT's attention mask ([CLS] words [SEP])
        assert (info['text_mask'] == (data['text_bert'][i, 1] > 0)).all()
    # fixed lengths on request
    short = build(
        osp.join(mosei['root'], 'Processed/unaligned_50.pkl'),
        split='test',
        seq_lens=dict(audio=40))
    info = short.get_data_info(0)
    assert info['audio'].shape == (40, 74) and info['audio_mask'].all()
    assert info['video'].shape == (375, 35)


def test_mult_pickle(mosei):
    data = mosei['mult']['valid']
    dataset = build(
        osp.join(mosei['root'], 'mosei_senti_data.pkl'),
        split='valid',
        features=dict(audio='audio', video='vision', text='text'))
    assert len(dataset) == 4
    assert dataset.fold_mismatches == {}
    for i, info in enumerate(infos(dataset)):
        assert info['video_id'] == data['id'][i][0]
        assert info['targets'][0] == data['labels'][i, 0, 0]
        assert np.isnan(info['targets'][1:]).all()
        assert info['text'].shape == (50, 300)
        assert info['audio_mask'].all()  # no lengths: every frame
        assert np.isfinite(info['audio']).all()
        assert info['audio'][3, 1] == pytest.approx(data['audio'][i, 3, 1])


# -------------------------------------------------------------------- .csd
def test_csd_unaligned_cut_to_segments(mosei):
    segments = {
        (s['video_id'], s['segment']): s
        for s in mosei['csd']['segments']
    }
    sizes = {}
    for split in ('train', 'valid', 'test'):
        dataset = csd_dataset(mosei, split=split)
        sizes[split] = len(dataset)
        for info in infos(dataset):
            segment = segments[info['video_id'], int(info['segment'])]
            assert segment['split'] == split  # the official fold
            assert (info['targets'] == segment['label']).all()
            start, end = segment['interval']
            for key, rate in (('audio', COVAREP_HZ), ('video', FACET_HZ)):
                # rows k of [k / rate, (k + 1) / rate] overlapping the
                # segment (column 0 of the fixture = k)
                rows = info[key][info[f'{key}_mask'], 0]
                expected = [
                    k for k in range(int(end * rate) + 2)
                    if k / rate < end and (k + 1) / rate > start
                ]
                assert rows.tolist() == expected[:len(info[key])]
            assert np.isfinite(info['audio']).all()
    assert sizes == dict(train=8, valid=4, test=4)
    # the first training segment (by video id): '-iRBcNs9oI8' [1.005,
    # 3.505] s: COVAREP rows 100..350 (251 at 100 Hz), FACET rows 30..105
    # (31/30 s is the first end after 1.005 s, 105/30 = 3.5 s the last
    # start before 3.505 s)
    info = csd_dataset(mosei).get_data_info(0)
    assert info['name'] == '-iRBcNs9oI8[0]'
    assert info['audio_length'] == 251 and info['video_length'] == 76
    assert info['audio'][0, 0] == 100 and info['audio'][250, 0] == 350
    assert info['video'][0, 0] == 30 and info['video'][75, 0] == 105
    assert (info['audio'][251:] == 0).all()  # zero padding to 300
    # truncation keeps the start
    info = csd_dataset(
        mosei, seq_lens=dict(audio=50, video=20)).get_data_info(0)
    assert info['audio'][:, 0].tolist() == list(range(100, 150))
    assert info['video_mask'].all() and info['video'][-1, 0] == 49


def test_csd_aligned_keys(mosei):
    dataset = csd_dataset(
        mosei, 'aligned', split='test', seq_lens=dict(audio=50, video=50))
    assert len(dataset) == 4
    for info in infos(dataset):
        words = mosei['csd']['words'][info['name']]
        assert info['audio_length'] == info['video_length'] == words
        first = 100 * (int(info['segment']) + 1)
        assert info['audio'][:words,
                             0].tolist() == list(range(first, first + words))
        assert not info['audio_mask'][words:].any()
    # aligned labels with unaligned features: cut by the labels' intervals
    files = mosei['csd']
    mixed = build(
        files['aligned']['CMU_MOSEI_Labels.csd'],
        dataset=MoseiCsdDataset,
        split='test',
        features=dict(audio=files['unaligned']['CMU_MOSEI_COVAREP.csd']),
        seq_lens=dict(audio=300))
    assert [i['audio_length'] for i in infos(mixed)] == [
        i['audio_length'] for i in infos(csd_dataset(mosei, split='test'))
    ]


def test_csd_metadata_and_errors(mosei, tmp_path):
    from mmemo.datasets.mosei_sources import CsdFile
    files = mosei['csd']['unaligned']
    csd = CsdFile(files['CMU_MOSEI_COVAREP.csd'])
    assert csd.root == 'COVAREP'
    assert csd.metadata()['dimension names'][0] == 'covarep_0'
    csd.close()

    # not an HDF5 file: the error names it
    broken = tmp_path / 'CMU_MOSEI_COVAREP.csd'
    broken.write_bytes(b'\x00garbage' * 100)
    with pytest.raises(
            BadSampleError,
            match='CMU_MOSEI_COVAREP.csd: is not'
            ' an HDF5 computational sequence'):
        build(
            files['CMU_MOSEI_Labels.csd'],
            dataset=MoseiCsdDataset,
            features=dict(audio=str(broken)),
            seq_lens=dict(audio=10))

    # a feature file without one video: error naming the file and the key,
    # or a counted skip
    video = VIDEOS['train'][1]
    with h5py_file(files['CMU_MOSEI_VisualFacet42.csd']) as f:
        data = {
            k: (f['FACET 4.2/data'][k]['features'][()],
                f['FACET 4.2/data'][k]['intervals'][()])
            for k in f['FACET 4.2/data'] if k != video
        }
    partial = write_csd(str(tmp_path / 'facet.csd'), 'FACET 4.2', data, {})
    kwargs = dict(
        dataset=MoseiCsdDataset,
        features=dict(video=partial),
        seq_lens=dict(video=8))
    with pytest.raises(BadSampleError) as error:
        build(files['CMU_MOSEI_Labels.csd'], **kwargs)
    assert error.value.path == partial
    assert f'"FACET 4.2/data/{video}"' in error.value.problem
    dataset = build(
        files['CMU_MOSEI_Labels.csd'], on_bad_sample='skip', **kwargs)
    assert len(dataset) == 6  # the 2 segments of that video left out
    assert sum(dataset.skipped.values()) == 2

    # a label out of range (sentiment 4): the error names file and key
    labels = tmp_path / 'labels.csd'
    shutil.copy(files['CMU_MOSEI_Labels.csd'], labels)
    with h5py_file(str(labels), 'r+') as f:
        f[f'All Labels/data/{video}/features'][0, 0] = 4.0
    with pytest.raises(
            BadSampleError,
            match=rf'labels.csd: "All Labels/data/{video}" row 0: '
            r'sentiment 4.0 is outside \[-3, 3\]'):
        build(str(labels), **kwargs)

    with pytest.raises(ValueError, match='seq_lens must give a length'):
        build(
            files['CMU_MOSEI_Labels.csd'],
            dataset=MoseiCsdDataset,
            features=dict(video=partial))


def h5py_file(path, mode='r'):
    import h5py
    return h5py.File(path, mode)


def test_pickle_errors(mosei, tmp_path):
    path = osp.join(mosei['root'], 'Processed/aligned_50.pkl')
    # truncated
    truncated = tmp_path / 'aligned_50.pkl'
    truncated.write_bytes(open(path, 'rb').read()[:5000])
    with pytest.raises(
            BadSampleError,
            match='aligned_50.pkl: cannot be '
            'unpickled: pickle data was truncated'):
        build(str(truncated))
    # a key missing
    with open(path, 'rb') as f:
        data = pickle.load(f)
    del data['valid']['vision']
    lacking = tmp_path / 'lacking.pkl'
    lacking.write_bytes(pickle.dumps(data))
    with pytest.raises(
            BadSampleError,
            match=r'lacking.pkl: \["valid"\]\["vision"\] is '
            'missing'):
        build(str(lacking), split='valid')
    # a pickle that runs code is refused before it runs
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps({'train': Payload(str(marker))}))
    with pytest.raises(BadSampleError, match='needs posix.system'):
        build(str(evil))
    assert not marker.exists()
    # out-of-range labels are bad samples: counted and skipped on request
    data = mosei['aligned']
    data = {s: dict(v) for s, v in data.items()}
    data['train']['regression_labels'] = data['train'][
        'regression_labels'].copy()
    data['train']['regression_labels'][2] = -3.5
    odd = tmp_path / 'odd.pkl'
    odd.write_bytes(pickle.dumps(data))
    with pytest.raises(BadSampleError, match=r'\["train"\]\[2\]'):
        build(str(odd))
    assert len(build(str(odd), on_bad_sample='skip')) == 8


class Payload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


# ------------------------------------------------------------------ raw media
@pytest.fixture(scope='module')
def raw_tree(mosei, tmp_path_factory):
    """Segmented mp4s for the test fold's 4 segments (GRID clips)."""
    root = str(tmp_path_factory.mktemp('mosei_raw'))
    segments = [s for s in mosei['csd']['segments'] if s['split'] == 'test']
    write_mosei_raw(root, segments)
    shutil.copy(mosei['csd']['unaligned']['CMU_MOSEI_Labels.csd'], root)
    return root


def test_raw_layout(raw_tree, tmp_path):
    dataset = build(
        'CMU_MOSEI_Labels.csd',
        dataset=MoseiRawDataset,
        split='test',
        data_root=raw_tree)
    assert len(dataset) == 4
    for info in infos(dataset):
        assert info['filename'] == osp.join(
            raw_tree, 'Raw/Videos/Segmented/Combined',
            f'{info["video_id"]}_{info["segment"]}.mp4')
        assert 'audio_path' not in info  # the mp4's own track
    # the training videos are missing: an error naming the file, or skips
    with pytest.raises(BadSampleError, match='_0.mp4: file not found'):
        build(
            'CMU_MOSEI_Labels.csd',
            dataset=MoseiRawDataset,
            data_root=raw_tree)
    skipping = build(
        'CMU_MOSEI_Labels.csd',
        dataset=MoseiRawDataset,
        split='all',
        data_root=raw_tree,
        on_bad_sample='skip')
    assert len(skipping) == 4 and skipping.skipped['file not found'] == 12
    with pytest.raises(ValueError, match="no usable segment in split 'valid'"):
        build(
            'CMU_MOSEI_Labels.csd',
            dataset=MoseiRawDataset,
            split='valid',
            data_root=raw_tree,
            on_bad_sample='skip')
    # a label CSV with its own file names and a separate audio file
    video = VIDEOS['test'][0]
    csv = tmp_path / 'labels.csv'
    csv.write_text(
        'video_id,segment,sentiment,happy,sad,anger,surprise,disgust,fear,'
        'video,audio\n'
        f'{video},7,-1.5,0,1,0,0,0,2,Raw/Videos/Segmented/Combined/'
        f'{video}_0.mp4,Raw/Videos/Segmented/Combined/{video}_1.mp4\n')
    (info, ) = infos(
        build(
            str(csv),
            dataset=MoseiRawDataset,
            split='test',
            data_root=raw_tree))
    assert info['segment'] == '7' and info['audio_path'].endswith('_1.mp4')
    assert info['targets'].tolist() == [-1.5, 0, 1, 0, 0, 0, 2]
    csv.write_text('video_id,segment,sentiment,happy\nx,0,1,0\n')
    with pytest.raises(
            BadSampleError,
            match='labels.csv: the header has '
            r"emotions \['happy'\]"):
        build(str(csv), dataset=MoseiRawDataset, data_root=raw_tree)


# ------------------------------------------------------------------ configs
def test_avtca_mosei_trains_and_tests(mosei, tmp_path):
    """`configs/avtca_mosei.py` (MMSA's aligned pickle): one epoch of
    training with validation, then tools/test.py on the checkpoint."""
    config = ci_config(
        tmp_path,
        'avtca_mosei.py',
        data_root=mosei['root'],
        ann_file='Processed/aligned_50.pkl')
    log, work_dir, test_dir = train_then_test(config, tmp_path)
    assert 'Epoch(train) [1][5/5]' in log  # 9 segments, batch 2
    assert 'test->none' in log  # the fold check is logged
    val = read_val_metrics(work_dir, key='mosei/mae')
    assert [m['step'] for m in val] == [1]
    assert osp.isfile(osp.join(work_dir, 'best_mosei_mae_epoch_1.pth'))
    metrics = read_test_metrics(test_dir)
    for key in ('mae', 'corr', 'acc_7', 'acc_5', 'acc_2_has0', 'f1_has0',
                'acc_2_non0', 'f1_non0', 'audio/mae', 'video/acc_7'):
        assert f'mosei/{key}' in metrics, key
    assert metrics['mosei/mae'] > 0
    assert 0 <= metrics['mosei/acc_7'] <= 1
    assert not any('wacc' in k for k in metrics)  # no emotion labels


def _run_config(config: str,
                dataset: dict,
                num: int,
                cache_dir=None,
                modality_level=None) -> tuple:
    """Build ``config``'s model and test dataset (with ``dataset``
    overrides), run a training loss and a test batch of ``num`` samples
    through the metric."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    if modality_level:
        cfg.model.train_cfg.modality_level = modality_level
        cfg.model.test_cfg.modality_level = modality_level
    with DefaultScope.overwrite_default_scope('mmemo'):
        data_cfg = dict(cfg.test_dataloader.dataset, **dataset)
        if cache_dir:
            for t in data_cfg['pipeline']:
                if t['type'] == 'FaceCrop':
                    t['cache_dir'] = cache_dir
        data = DATASETS.build(data_cfg)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        batch = pseudo_collate([data[i] for i in range(num)])
        model.train()
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
        model.eval()
        with torch.no_grad():
            outputs = model.test_step(batch)
        metric = METRICS.build(cfg.test_evaluator)
        metric.dataset_meta = data.metainfo
        metric.process(batch, [o.to_dict() for o in outputs])
        return batch, losses, metric.evaluate(num)


def test_avtca_mosei_csd_config(mosei):
    """`configs/avtca_mosei_csd.py`: the labels have emotions, so the BCE
    term trains and the emotion metrics are reported."""
    batch, losses, metrics = _run_config(
        'avtca_mosei_csd.py',
        dict(data_root=osp.join(mosei['root'], 'csd', 'unaligned')),
        num=2)
    assert batch['inputs']['video'][0].shape == (1, 375, 35)
    assert batch['inputs']['audio'][0].shape == (1, 1, 500, 74)
    assert batch['data_samples'][0].gt_label.dtype == torch.float32
    assert losses['loss_emotion'] > 0 and losses['loss_sentiment'] > 0
    assert {
        'mosei/mae', 'mosei/f1_happy', 'mosei/wacc_mean', 'mosei/audio/f1_mean'
    } <= set(metrics)


def test_avtca_mosei_raw_config(raw_tree, tmp_path):
    """`configs/avtca_mosei_raw.py` on a segmented mp4: faces and MFCCs
    through EfficientFace and the head, a float label vector. (Modality
    dropout on tokens here: EfficientFace then runs once per clip on CPU.)
    """
    batch, losses, metrics = _run_config(
        'avtca_mosei_raw.py',
        dict(data_root=raw_tree),
        num=1,
        cache_dir=str(tmp_path / 'faces'),
        modality_level='tokens')
    assert batch['inputs']['video'][0].shape == (1, 3, 15, 224, 224)
    assert batch['inputs']['audio'][0].shape == (1, 1, 156, 10)
    assert batch['data_samples'][0].gt_label.shape == (7, )
    assert torch.isfinite(losses['loss_sentiment'])
    assert 'mosei/acc_2_non0' in metrics and 'mosei/f1_mean' in metrics


def test_identity_encoder_checks_the_feature_size():
    from mmemo.models.backbones import IdentityEncoder
    frames = torch.randn(2, 50, 35)  # FACET frames
    assert IdentityEncoder(in_channels=35)(frames) is frames
    with pytest.raises(
            ValueError,
            match=r'expects \[B, T, 35\] feature '
            r'frames, got \(2, 50, 74\)'):
        IdentityEncoder(in_channels=35)(torch.randn(2, 50, 74))
