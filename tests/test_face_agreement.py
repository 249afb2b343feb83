# Copyright (c) mmemo contributors. All rights reserved.
"""The configs' fast FaceCrop setting against MTCNN on every frame.

On every frame of the GRID clips, the face box FaceCrop follows with the
RAVDESS / CREMA-D configs' setting (MTCNN on key frames) must have IoU >=
0.9 with the box of the reference (MTCNN on every frame) on >= 95 % of the
frames (docs/en/user_guides/faces.md; ``python tools/benchmark.py
face-agreement`` prints the same numbers and those of synthetic clips).
"""
import copy
import glob
import hashlib
import os.path as osp

import numpy as np
import pytest
from helpers import REPO
from mmengine.config import Config

from mmemo.datasets.transforms import FaceCrop
from mmemo.models.face import MTCNNFaceDetector
from mmemo.models.face.agreement import (AGREEMENT_GOAL, IOU_THRESHOLD,
                                         REFERENCE_DETECTOR,
                                         face_track_agreement,
                                         interleaved_clips, read_frames)

GRID_CLIPS = sorted(
    glob.glob(osp.join(REPO, 'tests', 'data', 'grid', '*.mpg')))


def config_face_crop(config: str):
    """The FaceCrop setting (without cache) and clip length of a config's
    test pipeline."""
    cfg = Config.fromfile(osp.join(REPO, config))
    pipeline = cfg.test_dataloader.dataset.pipeline
    by_name = {t['type'].split('.')[-1]: t for t in pipeline}
    setting = dict(copy.deepcopy(by_name['FaceCrop']), cache_dir=None)
    setting.pop('type')
    return setting, by_name['UniformSample']['clip_len']


class ShiftedDetector:
    """The reference detector with every box moved right by ``dx``."""

    def __init__(self, inner, dx: float) -> None:
        self.inner = inner
        self.dx = dx

    def detect(self, frames):
        return [
            b + np.array([self.dx, 0, self.dx, 0, 0], np.float32)
            for b in self.inner.detect(frames)
        ]


class MemoDetector:
    """A detector that remembers its results per frame content (the
    reference sees the same GRID frames in every test)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.memo = {}

    def detect(self, frames):
        keys = [hashlib.sha1(f.tobytes()).hexdigest() for f in frames]
        todo = [i for i, k in enumerate(keys) if k not in self.memo]
        if todo:
            found = self.inner.detect([frames[i] for i in todo])
            self.memo.update({keys[i]: b for i, b in zip(todo, found)})
        return [self.memo[k] for k in keys]


@pytest.fixture(scope='module')
def reference_detector():
    return MemoDetector(
        MTCNNFaceDetector(**{
            k: v
            for k, v in REFERENCE_DETECTOR.items() if k != 'type'
        }))


def test_interleaved_clips_cover_every_frame():
    for total, clip_len in ((75, 15), (75, 30), (10, 15), (91, 30)):
        clips = interleaved_clips(total, clip_len)
        np.testing.assert_array_equal(
            np.sort(np.concatenate(clips)), np.arange(total))
        assert all(len(c) >= min(total, clip_len) for c in clips)


def test_read_frames_names_a_bad_file(tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'not a video')
    with pytest.raises(ValueError, match='broken.mp4'):
        read_frames(str(bad))


@pytest.mark.parametrize(
    'config', ['configs/avtca_ravdess.py', 'configs/cfnsr_ravdess.py'])
def test_config_face_crop_agrees_with_mtcnn_on_grid(config,
                                                    reference_detector):
    setting, clip_len = config_face_crop(config)
    # the test is about the fast path: it must be on
    assert setting.get('key_frames')
    face_crop = FaceCrop(**setting)
    reference = FaceCrop(
        **dict(setting, detector=reference_detector, key_frames=None))
    res = face_track_agreement(face_crop, reference, GRID_CLIPS, clip_len)
    assert res['frames'] == 75 * len(GRID_CLIPS)
    assert res['scored'] == res['frames']  # MTCNN finds every GRID face
    assert res['fraction'] >= AGREEMENT_GOAL, res
    # it does skip frames
    assert res['searched_per_frame'] < 0.5, res


def test_agreement_fails_for_drifted_boxes(reference_detector):
    """A detector 10 % of a face width off, or no face at all, fails."""
    setting, clip_len = config_face_crop('configs/avtca_ravdess.py')
    reference = FaceCrop(
        **dict(setting, detector=reference_detector, key_frames=None))
    drifted = FaceCrop(
        **dict(setting, detector=ShiftedDetector(reference_detector, 11)))
    res = face_track_agreement(drifted, reference, GRID_CLIPS[:2], clip_len)
    assert res['fraction'] < AGREEMENT_GOAL
    assert res['min_iou'] < IOU_THRESHOLD
    blind = FaceCrop(**dict(
        setting,
        detector=type(
            'Blind', (), {
                'detect':
                lambda self, frames:
                [np.zeros((0, 5), np.float32) for _ in frames]
            })()))
    res = face_track_agreement(blind, reference, GRID_CLIPS[:1], clip_len)
    assert res['fraction'] == 0 and res['scored'] == 75
