# Copyright (c) mmemo contributors. All rights reserved.
"""A cache of frozen sub-clip encoder features (JCA/JMT's recipe).

JCA and JMT train their fusion heads on frozen backbones. Decoding a video
window and running R(2+1)D-18 on its 16 sub-clips costs orders of magnitude
more than the fusion head, so :func:`extract_sub_clip_features` runs the
encoders once, over the dense windows of a test-mode
:class:`~mmemo.datasets.VASequenceDataset` (every frame is the last frame of
exactly one sub-clip), and stores per video and modality one feature per
frame::

    <out_dir>/cache.json              shapes, dtype, per-video coverage
    <out_dir>/video/<video_id>.npy    [num_frames, ...] (sub-clip ending at
    <out_dir>/audio/<video_id>.npy     each frame), np.load(mmap_mode='r')

Frames not covered by any window (runs the dataset leaves out because
nothing around them is annotated) hold zeros; ``cache.json`` counts them.
The extraction is resumable: a video is written to a temporary file and
renamed when complete, finished videos are skipped on the next run. The
cache records a fingerprint of the encoders' weights: features of other
encoders (another stage-1 run, another seed) are never mixed into it, the
extraction refuses such a folder unless told to overwrite it.
:class:`~mmemo.datasets.transforms.LoadSubClipFeatures` reads the cache.
"""
import hashlib
import json
import os
import shutil
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Subset

from ..datasets.transforms.load_sub_clip_features import cache_path
from ..utils import strict_json

CACHE_META = 'cache.json'


def _load_meta(out_dir: str) -> Dict:
    path = osp.join(out_dir, CACHE_META)
    if not osp.exists(path):
        return dict(videos={})
    with open(path) as f:
        return json.load(f)


def _save_meta(out_dir: str, meta: Dict) -> None:
    strict_json.dump_atomic(
        meta, osp.join(out_dir, CACHE_META), indent=1, sort_keys=True)


def encoder_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over the names and values of the encoders' parameters and
    buffers: which weights made a cache."""
    digest = hashlib.sha256()
    for modality, encoder in sorted(model.encoders().items()):
        for name, tensor in sorted(encoder.state_dict().items()):
            digest.update(f'{modality}.{name}'.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _windows_by_video(dataset) -> 'OrderedDict[str, List[int]]':
    groups: 'OrderedDict[str, List[int]]' = OrderedDict()
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        groups.setdefault(info['video_id'], []).append(idx)
    return groups


def _check_compatible(meta: Dict, modality: str, shape: Sequence[int],
                      dtype: str, out_dir: str) -> None:
    known = meta.get('modalities', {}).get(modality)
    if known and (list(known['shape']) != list(shape)
                  or known['dtype'] != dtype):
        raise ValueError(
            f'{out_dir}: the cache holds {modality} features of shape '
            f'{known["shape"]} ({known["dtype"]}), this model gives '
            f'{list(shape)} ({dtype}); use another --out folder')


def extract_sub_clip_features(model: torch.nn.Module,
                              dataset,
                              out_dir: str,
                              batch_size: int = 4,
                              num_workers: int = 0,
                              dtype: str = 'float16',
                              progress: bool = True,
                              overwrite: bool = False) -> Dict[str, int]:
    """Run a model's sub-clip encoders over a dataset and cache them.

    Args:
        model (nn.Module): An :class:`~mmemo.models.AVRegressor` with both
            encoders (its head is not used), in eval mode.
        dataset (VASequenceDataset): A *test-mode* dataset (dense windows)
            whose pipeline decodes the sub-clips, without augmentation.
        out_dir (str): The cache folder.
        batch_size (int): Windows per forward pass. Defaults to 4.
        num_workers (int): DataLoader workers. Defaults to 0.
        dtype (str): Storage dtype. Defaults to ``'float16'``.
        progress (bool): Show a progress bar. Defaults to True.
        overwrite (bool): Empty a cache made by other encoder weights
            instead of refusing it. Defaults to False.

    Returns:
        dict: ``videos`` written, ``skipped`` (already complete) and
        ``windows`` run.
    """
    assert getattr(dataset, 'test_mode', False), \
        'extract features from a test-mode dataset (dense windows)'
    modalities = sorted(model.encoders())
    assert modalities, 'the model has no encoder to cache'
    fingerprint = encoder_fingerprint(model)
    meta = _load_meta(out_dir)
    made_by = meta.get('encoders')
    if meta['videos'] and made_by != fingerprint:
        if not overwrite:
            raise ValueError(
                f'{out_dir}: the cache holds features of other encoder '
                f'weights (sha256 {str(made_by)[:12]}, these: '
                f'{fingerprint[:12]}); use another folder or overwrite it '
                '(overwrite=True, --overwrite)')
        shutil.rmtree(out_dir)
        meta = dict(videos={})
    meta['encoders'] = fingerprint
    groups = _windows_by_video(dataset)
    done = {
        vid
        for vid in groups if vid in meta['videos'] and all(
            osp.exists(cache_path(out_dir, m, vid)) for m in modalities)
    }
    pending = [
        i for vid, idx in groups.items() if vid not in done for i in idx
    ]
    for modality in modalities:
        os.makedirs(osp.join(out_dir, modality), exist_ok=True)
    remaining = {vid: len(idx) for vid, idx in groups.items()}
    buffers: Dict[str, Dict] = {}
    loader = DataLoader(
        Subset(dataset, pending),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    bar = ProgressBar(len(pending)) if progress and pending else None
    written = 0
    model.eval()
    with torch.no_grad():
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            feats, _ = model.extract_feat(data['inputs'])
            for i, sample in enumerate(data['data_samples']):
                vid = sample.metainfo['video_id']
                frames = np.asarray(sample.metainfo['target_frames'])
                buf = buffers.get(vid)
                if buf is None:
                    num = int(sample.metainfo['num_frames'])
                    buf = buffers[vid] = dict(
                        covered=np.zeros(num, bool),
                        **{
                            m: np.zeros((num, *feats[m].shape[2:]), dtype)
                            for m in modalities
                        })
                keep = (frames >= 0) & (frames < len(buf['covered']))
                for m in modalities:
                    value = feats[m][i].float().cpu().numpy()  # [L, ...]
                    buf[m][frames[keep]] = value[keep].astype(dtype)
                buf['covered'][frames[keep]] = True
                remaining[vid] -= 1
                if remaining[vid] == 0:
                    _write_video(out_dir, vid, buffers.pop(vid), modalities,
                                 meta, dtype)
                    written += 1
                if bar is not None:
                    bar.update()
    assert not buffers, f'unfinished videos: {sorted(buffers)}'
    return dict(videos=written, skipped=len(done), windows=len(pending))


def _write_video(out_dir: str, vid: str, buf: Dict, modalities: List[str],
                 meta: Dict, dtype: str) -> None:
    meta.setdefault('modalities', {})
    for m in modalities:
        _check_compatible(meta, m, buf[m].shape[1:], dtype, out_dir)
        meta['modalities'][m] = dict(shape=list(buf[m].shape[1:]), dtype=dtype)
        path = cache_path(out_dir, m, vid)
        tmp = path[:-len('.npy')] + '.tmp.npy'
        np.save(tmp, buf[m])
        os.replace(tmp, path)
    meta['videos'][vid] = dict(
        num_frames=int(len(buf['covered'])), covered=int(buf['covered'].sum()))
    _save_meta(out_dir, meta)


def load_cache_meta(out_dir: str) -> Optional[Dict]:
    """The cache's ``cache.json`` (None when there is none)."""
    path = osp.join(out_dir, CACHE_META)
    return _load_meta(out_dir) if osp.exists(path) else None
