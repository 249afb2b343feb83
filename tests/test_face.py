# Copyright (c) mmemo contributors. All rights reserved.
"""MTCNN face detector and the FaceCrop transform, on real GRID clips.

The MTCNN weights must already be fetched (``tools/misc/fetch_face_weights
.py``, run by the install script); nothing is downloaded here.
"""
import functools
import glob
import importlib.util
import json
import os
import os.path as osp
import pickle
import shutil
import zipfile
from fractions import Fraction
from typing import List

import av
import numpy as np
import pytest
from helpers import REPO
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope

import mmemo.models.face.mtcnn as mtcnn_module
from mmemo.datasets.transforms import face_crop as face_crop_module
from mmemo.datasets.transforms.face_crop import FaceCrop
from mmemo.models.face import MTCNNFaceDetector, resolve_mtcnn_weights
from mmemo.registry import TASK_UTILS, TRANSFORMS

GRID_DIR = osp.join(REPO, 'tests', 'data', 'grid')
GRID_CLIPS = sorted(glob.glob(osp.join(GRID_DIR, '*.mpg')))
SPEAKER_CLIP = osp.join(GRID_DIR, 'id2_vcd_swwp2s.mpg')
FETCH_SCRIPT = osp.join(REPO, 'tools', 'misc', 'fetch_face_weights.py')
H, W = 288, 360  # GRID frames


@functools.lru_cache(maxsize=None)
def grid_frames(path: str) -> np.ndarray:
    """All ``[75, 288, 360, 3]`` RGB frames of a GRID clip."""
    with av.open(path) as container:
        return np.stack(
            [f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


def sample_inds(num: int = 15, total: int = 75) -> np.ndarray:
    return np.linspace(0, total - 1, num).round().astype(np.int64)


def clip_results(path: str, inds: np.ndarray) -> dict:
    """A result dict as mmaction's ``PyAVDecode`` leaves it."""
    frames = grid_frames(path)
    return dict(
        imgs=[frames[i] for i in inds],
        frame_inds=inds.copy(),
        filename=path,
        img_shape=(H, W),
        original_shape=(H, W))


@pytest.fixture(scope='module')
def mtcnn() -> MTCNNFaceDetector:
    return MTCNNFaceDetector()


class CountingDetector:
    """Wraps a detector; counts calls and frames and drops some results."""

    def __init__(self, inner, drop_every: int = 0) -> None:
        self.inner = inner
        self.drop_every = drop_every
        self.calls = 0
        self.frames = 0

    @property
    def cache_tag(self) -> str:
        # the wrapped detector's settings decide the detections
        return getattr(self.inner, 'cache_tag', type(self.inner).__name__)

    def detect(self, frames) -> List[np.ndarray]:
        self.calls += 1
        self.frames += len(frames)
        boxes = self.inner.detect(frames)
        if self.drop_every:
            # positions 1, 1 + k, 1 + 2k, ... lose their face
            boxes = [
                np.zeros((0, 5), np.float32) if i % self.drop_every == 1 else b
                for i, b in enumerate(boxes)
            ]
        return boxes


@TASK_UTILS.register_module(force=True)
class FixedBoxDetector:
    """A stand-in detector: one fixed box in every frame that is not black.

    Args:
        box (tuple): ``(x1, y1, x2, y2)``.
        score (float): The box's score.
    """

    def __init__(self, box=(100, 80, 200, 200), score: float = 0.9) -> None:
        self.box = tuple(float(v) for v in box)
        self.score = score

    def detect(self, frames) -> List[np.ndarray]:
        return [
            np.array([[*self.box, self.score]], np.float32)
            if frame.any() else np.zeros((0, 5), np.float32)
            for frame in frames
        ]


class IndexedDetector:
    """Frame ``i`` (all pixels equal to ``i``) has a face centred at
    ``(100 + 10 i, 120)``, 60×80 pixels; frames in ``missing`` have none."""

    def __init__(self, missing=()) -> None:
        self.missing = set(missing)

    def detect(self, frames) -> List[np.ndarray]:
        out = []
        for frame in frames:
            i = int(frame[0, 0, 0])
            if i in self.missing:
                out.append(np.zeros((0, 5), np.float32))
            else:
                cx = 100 + 10 * i
                out.append(
                    np.array([[cx - 30, 80, cx + 30, 160, 0.99]], np.float32))
        return out


# --------------------------------------------------------------- weights
def load_fetch_script():
    spec = importlib.util.spec_from_file_location('fetch_face_weights',
                                                  FETCH_SCRIPT)
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    return fetch


def test_weights_are_fetched_and_pinned():
    fetch = load_fetch_script()
    assert set(fetch.SHA256) == set(mtcnn_module.WEIGHT_FILES)
    # the files found match the sha256 pinned in the fetch script
    assert fetch.is_complete(resolve_mtcnn_weights())


def test_fetch_script_from_local_wheel(tmp_path, capsys):
    """Extraction, hash check and no-op, with a wheel built here (offline).
    """
    fetch = load_fetch_script()
    weights = resolve_mtcnn_weights()

    def make_wheel(path, tamper=False):
        with zipfile.ZipFile(path, 'w') as zf:
            for name in fetch.SHA256:
                with open(osp.join(weights, name), 'rb') as f:
                    data = f.read()
                if tamper and name == 'onet.pt':
                    data = data[:-1] + bytes([data[-1] ^ 1])
                zf.writestr(f'{fetch.WHEEL_DATA_DIR}/{name}', data)
            zf.writestr(fetch.WHEEL_LICENSE, 'MIT License ...')
        return str(path)

    out = str(tmp_path / 'out')
    assert fetch.fetch(out, wheel=make_wheel(tmp_path / 'ok.whl')) == out
    assert fetch.is_complete(out)
    assert osp.isfile(osp.join(out, fetch.LICENSE_NAME))
    assert resolve_mtcnn_weights(out) == out
    capsys.readouterr()
    fetch.fetch(out, wheel='/nonexistent.whl')  # present: nothing to do
    assert 'already' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='sha256 mismatch for onet.pt'):
        fetch.fetch(
            str(tmp_path / 'bad'),
            wheel=make_wheel(tmp_path / 'bad.whl', tamper=True))
    assert not osp.exists(tmp_path / 'bad' / 'pnet.pt')


def test_weights_resolution(tmp_path, monkeypatch):
    real = resolve_mtcnn_weights()
    env_dir = tmp_path / 'env'
    env_dir.mkdir()
    for name in mtcnn_module.WEIGHT_FILES:
        os.symlink(osp.join(real, name), env_dir / name)
    monkeypatch.setenv('MMEMO_FACE_WEIGHTS', str(env_dir))
    assert resolve_mtcnn_weights() == str(env_dir)
    assert resolve_mtcnn_weights(real) == real

    # an explicit directory must hold the files
    with pytest.raises(FileNotFoundError, match='fetch_face_weights.py'):
        resolve_mtcnn_weights(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError):
        MTCNNFaceDetector(weights_dir=str(tmp_path / 'nowhere'))

    # nothing anywhere: the error names every place and the fix
    monkeypatch.delenv('MMEMO_FACE_WEIGHTS')
    monkeypatch.setattr('sys.prefix', str(tmp_path / 'venv'))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setattr(mtcnn_module, '_facenet_data_dir', lambda: None)
    with pytest.raises(FileNotFoundError) as info:
        resolve_mtcnn_weights()
    message = str(info.value)
    for place in ('$MMEMO_FACE_WEIGHTS', 'share/mmemo/mtcnn',
                  'facenet_pytorch/data', '.cache/mmemo/mtcnn',
                  'python tools/misc/fetch_face_weights.py'):
        assert place in message


# -------------------------------------------------------------- detector
@pytest.mark.parametrize('path', GRID_CLIPS, ids=osp.basename)
def test_detects_the_speaker(mtcnn, path):
    inds = sample_inds()
    boxes = mtcnn.detect(grid_frames(path)[inds])
    assert len(boxes) == len(inds)
    for b in boxes:
        # exactly one face per frame, sure, where the speaker sits
        assert b.shape == (1, 5) and b.dtype == np.float32
        x1, y1, x2, y2, score = b[0]
        assert score > 0.99
        assert 130 < (x1 + x2) / 2 < 210 and 140 < (y1 + y2) / 2 < 200
        assert 80 < x2 - x1 < 150 and 110 < y2 - y1 < 190
        assert x1 > 60 and y1 > 60 and x2 < 280 and y2 < H


def test_speaker_box_of_id2_clip(mtcnn):
    # id2_vcd_swwp2s: the face spans about x 122-233, y 95-250 (checked by
    # eye on frames drawn with their boxes: cheek to cheek, mid-forehead to
    # chin)
    boxes = np.concatenate(mtcnn.detect(grid_frames(SPEAKER_CLIP)[::5]))
    assert len(boxes) == 15
    np.testing.assert_allclose(
        np.median(boxes[:, :4], axis=0), [122, 96, 233, 250], atol=8)


def test_detect_batched_equals_single_and_accepts_lists(mtcnn):
    frames = grid_frames(GRID_CLIPS[0])[:4]
    batched = mtcnn.detect(frames)
    single = [mtcnn.detect(f)[0] for f in frames]  # one H×W×3 frame
    listed = mtcnn.detect(list(frames))
    for b, s, li in zip(batched, single, listed):
        np.testing.assert_allclose(b, s, atol=1e-3)
        np.testing.assert_allclose(b, li, atol=1e-3)
    assert mtcnn.detect([]) == []


def test_detect_large_frames_and_several_faces(mtcnn):
    """Frames over ``max_side`` are downscaled; boxes map back."""
    a, b = grid_frames(GRID_CLIPS[0])[0], grid_frames(SPEAKER_CLIP)[0]
    pair = np.concatenate([a, b], axis=1)  # [288, 720, 3]: two speakers
    big = np.repeat(np.repeat(a, 2, axis=0), 2, axis=1)  # [576, 720, 3]
    # frames of different sizes in one call
    small_box, pair_boxes, big_box = mtcnn.detect([a, pair, big])
    assert len(pair_boxes) == 2
    assert np.all(np.diff(pair_boxes[:, 4]) <= 0)  # by decreasing score
    left, right = sorted(pair_boxes.tolist())
    assert left[2] < W < right[0]
    np.testing.assert_allclose(left[:4], small_box[0, :4], atol=10)
    assert len(big_box) == 1
    np.testing.assert_allclose(big_box[0, :4] / 2, small_box[0, :4], atol=6)


@pytest.mark.parametrize('kind', ['uniform', 'black', 'noise'])
def test_no_face_in_non_face_frames(mtcnn, kind):
    rng = np.random.default_rng(0)
    if kind == 'uniform':
        frames = np.full((4, H, W, 3), 128, np.uint8)
    elif kind == 'black':
        frames = np.zeros((4, H, W, 3), np.uint8)
    else:
        frames = rng.integers(0, 256, (4, H, W, 3), dtype=np.uint8)
    for boxes in mtcnn.detect(frames):
        assert boxes.shape == (0, 5)


# -------------------------------------------------------------- FaceCrop
def test_face_crop_grid_clip(mtcnn):
    crop = FaceCrop(detector=mtcnn, margin=0.2)
    inds = sample_inds()
    results = crop(clip_results(SPEAKER_CLIP, inds))
    faces = np.concatenate(mtcnn.detect(grid_frames(SPEAKER_CLIP)[inds]))
    imgs, boxes = results['imgs'], results['face_boxes']
    assert len(imgs) == len(inds)
    assert boxes.shape == (len(inds), 4) and boxes.dtype == np.float32
    assert results['face_detected'].dtype == bool
    assert results['face_detected'].all()
    assert results['face_fallback_frames'] == 0
    # one square size per clip: the median face side plus the margin
    side = boxes[0, 2] - boxes[0, 0]
    assert np.all(boxes[:, 2] - boxes[:, 0] == side)
    assert np.all(boxes[:, 3] - boxes[:, 1] == side)
    face_side = np.median(
        np.maximum(faces[:, 2] - faces[:, 0], faces[:, 3] - faces[:, 1]))
    assert abs(side - 1.2 * face_side) <= 1
    assert all(img.shape == (side, side, 3) for img in imgs)
    assert results['img_shape'] == (side, side)
    # every detected face lies inside its crop; the crops are stable
    assert np.all(boxes[:, :2] <= faces[:, :2] + 1)
    assert np.all(boxes[:, 2:] >= faces[:, 2:4] - 1)
    assert ((boxes[:, :2] + boxes[:, 2:]) / 2).std(axis=0).max() < 4
    # crops are the frame's pixels
    x1, y1, x2, y2 = boxes[3].astype(int)
    np.testing.assert_array_equal(
        imgs[3],
        grid_frames(SPEAKER_CLIP)[inds[3]][y1:y2, x1:x2])


def test_face_crop_output_size_and_not_square():
    crop = FaceCrop(
        detector=FixedBoxDetector(box=(100, 80, 160, 200)),
        margin=0.0,
        square=False,
        output_size=(56, 64))
    results = crop(clip_results(GRID_CLIPS[0], sample_inds(4)))
    np.testing.assert_array_equal(results['face_boxes'],
                                  np.tile([100, 80, 160, 200], (4, 1)))
    assert all(img.shape == (64, 56, 3) for img in results['imgs'])
    assert results['img_shape'] == (64, 56)


def test_face_crop_fallback_is_counted(monkeypatch):
    logged = []
    monkeypatch.setattr(face_crop_module, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    crop = FaceCrop(detector=FixedBoxDetector(), warn_first=2, warn_every=3)
    black = dict(
        imgs=[np.zeros((H, W, 3), np.uint8)] * 6,
        frame_inds=np.arange(6),
        filename='no_face.mp4')
    for _ in range(6):
        results = crop(dict(black))
    side = round(0.6 * H)
    x1, y1 = (W - side) // 2, (H - side) // 2
    np.testing.assert_array_equal(
        results['face_boxes'], np.tile([x1, y1, x1 + side, y1 + side], (6, 1)))
    assert not results['face_detected'].any()
    assert results['face_fallback_frames'] == 6
    assert results['img_shape'] == (side, side)
    assert (crop.num_clips, crop.num_fallback_clips,
            crop.num_fallback_frames) == (6, 6, 36)
    # logged for clips 1, 2 (warn_first), then every 3rd: 3 and 6
    assert len(logged) == 4
    assert all('no_face.mp4' in msg for msg in logged)

    # a clip with a face is counted but not a fallback
    crop(clip_results(GRID_CLIPS[0], sample_inds(3)))
    assert (crop.num_clips, crop.num_fallback_clips) == (7, 6)


def test_face_crop_real_detector_falls_back_on_noise(mtcnn):
    crop = FaceCrop(detector=mtcnn)
    rng = np.random.default_rng(1)
    results = crop(
        dict(
            imgs=list(rng.integers(0, 256, (3, H, W, 3), dtype=np.uint8)),
            frame_inds=np.arange(3),
            filename='noise.mp4'))
    assert results['face_fallback_frames'] == 3
    assert crop.num_fallback_clips == 1


def test_face_crop_fills_frames_without_face():
    """Interpolated between neighbours, nearest at the ends."""
    frames = [np.full((H, W, 3), i, np.uint8) for i in range(10)]
    crop = FaceCrop(
        detector=IndexedDetector(missing={0, 3, 4, 9}),
        margin=0.0,
        square=False,
        smooth=None)
    results = crop(dict(imgs=frames, frame_inds=np.arange(10)))
    np.testing.assert_array_equal(results['face_detected'],
                                  [i not in (0, 3, 4, 9) for i in range(10)])
    centres = (results['face_boxes'][:, 0] + results['face_boxes'][:, 2]) / 2
    expected = 100 + 10 * np.array([1, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    np.testing.assert_array_equal(centres, expected)
    assert results['face_fallback_frames'] == 0
    assert all(img.shape == (80, 60, 3) for img in results['imgs'])


def test_face_crop_smoothing_with_dropped_detections(mtcnn):
    inds = np.arange(0, 75, 3)  # 25 frames
    full = FaceCrop(detector=mtcnn)(clip_results(SPEAKER_CLIP, inds))
    dropping = CountingDetector(mtcnn, drop_every=3)
    results = FaceCrop(detector=dropping)(clip_results(SPEAKER_CLIP, inds))
    dropped = np.arange(len(inds)) % 3 == 1
    np.testing.assert_array_equal(results['face_detected'], ~dropped)
    assert results['face_fallback_frames'] == 0
    boxes = results['face_boxes']
    assert boxes.shape == (len(inds), 4)
    # frames without a face get their neighbours' box: close to the box
    # found when they keep it
    assert np.abs(boxes - full['face_boxes']).max() <= 6
    assert ((boxes[:, :2] + boxes[:, 2:]) / 2).std(axis=0).max() < 4

    # the median removes a one-frame jump of the detector
    class Jumpy(IndexedDetector):

        def detect(self, frames):
            out = super().detect(frames)
            out[5] = out[5] + np.array([60, 0, 60, 0, 0], np.float32)
            return out

    frames = [np.full((H, W, 3), i, np.uint8) for i in range(10)]
    results = FaceCrop(
        detector=Jumpy(), margin=0.0, smooth='median')(
            dict(imgs=frames, frame_inds=np.arange(10)))
    centres = (results['face_boxes'][:, 0] + results['face_boxes'][:, 2]) / 2
    assert abs(centres[5] - 150) <= 10
    results = FaceCrop(
        detector=Jumpy(), margin=0.0, smooth=None)(
            dict(imgs=frames, frame_inds=np.arange(10)))
    centres = (results['face_boxes'][:, 0] + results['face_boxes'][:, 2]) / 2
    assert centres[5] == 210


class RecordingDetector(IndexedDetector):
    """:class:`IndexedDetector` that records the frames it was asked."""

    def __init__(self, missing=(), jumps=()) -> None:
        super().__init__(missing)
        self.jumps = set(jumps)
        self.seen: List[int] = []
        self.calls = 0

    def detect(self, frames) -> List[np.ndarray]:
        self.calls += 1
        self.seen += [int(f[0, 0, 0]) for f in frames]
        out = super().detect(frames)
        # frames in `jumps` see the face 60 pixels lower
        return [
            b + np.array([0, 60, 0, 60, 0], np.float32)
            if int(f[0, 0, 0]) in self.jumps and len(b) else b
            for f, b in zip(frames, out)
        ]


def indexed_clip(num: int = 10) -> dict:
    return dict(
        imgs=[np.full((H, W, 3), i, np.uint8) for i in range(num)],
        frame_inds=np.arange(num))


def test_face_crop_key_frames_interpolate():
    det = RecordingDetector()
    crop = FaceCrop(
        detector=det, key_frames=3, margin=0.0, square=False, smooth=None)
    results = crop(indexed_clip(9))
    # first, middle, last, in one call
    assert sorted(det.seen) == [0, 4, 8] and det.calls == 1
    np.testing.assert_array_equal(results['face_searched'],
                                  [i in (0, 4, 8) for i in range(9)])
    # skipped frames lie between frames with a face: counted as found
    assert results['face_detected'].all()
    assert results['media_report']['faces_found'] == 9
    # the face moves 10 pixels a frame: the interpolation is exact
    centres = (results['face_tracks'][:, 0] + results['face_tracks'][:, 2]) / 2
    np.testing.assert_allclose(centres, 100 + 10 * np.arange(9))
    np.testing.assert_allclose(results['face_tracks'][:, 1], 80)
    np.testing.assert_allclose(results['face_tracks'][:, 3], 160)
    centres = (results['face_boxes'][:, 0] + results['face_boxes'][:, 2]) / 2
    np.testing.assert_array_equal(centres, 100 + 10 * np.arange(9))
    # repeated indices count once; more key frames than frames: all
    det = RecordingDetector()
    FaceCrop(
        detector=det, key_frames=5)(
            dict(
                imgs=[
                    np.full((H, W, 3), i, np.uint8) for i in (0, 0, 1, 2, 2)
                ],
                frame_inds=np.array([0, 0, 1, 2, 2])))
    assert sorted(det.seen) == [0, 1, 2]
    assert 'key_frames=3' in repr(crop)
    for bad in (0, 1, 2.5, True):
        with pytest.raises(ValueError, match='key_frames'):
            FaceCrop(detector=det, key_frames=bad)
    with pytest.raises(ValueError, match='refine_iou'):
        FaceCrop(detector=det, key_frames=2, refine_iou=1.5)


def test_face_crop_key_frames_refine():
    # a key frame without a face: the gaps beside it are bisected until
    # both ends of each have faces or nothing lies between them
    det = RecordingDetector(missing={4})
    results = FaceCrop(detector=det, key_frames=3)(indexed_clip(9))
    assert sorted(det.seen) == [0, 2, 3, 4, 5, 6, 8]
    assert det.calls == 3  # keys, then 2 and 6, then 3 and 5
    np.testing.assert_array_equal(results['face_searched'],
                                  [i in det.seen for i in range(9)])
    np.testing.assert_array_equal(results['face_detected'],
                                  np.arange(9) != 4)
    # without a face in any frame: all frames tried, then the centre crop
    det = RecordingDetector(missing=set(range(9)))
    results = FaceCrop(detector=det, key_frames=2)(indexed_clip(9))
    assert sorted(det.seen) == list(range(9))
    assert results['face_fallback_frames'] == 9
    assert 'face_tracks' not in results
    # boxes of neighbouring key frames that disagree: refined with
    # refine_iou, interpolated without
    det = RecordingDetector(jumps={8})
    FaceCrop(detector=det, key_frames=3)(indexed_clip(9))
    assert sorted(det.seen) == [0, 4, 8]
    det = RecordingDetector(jumps={8})
    results = FaceCrop(
        detector=det, key_frames=3, refine_iou=0.4)(
            indexed_clip(9))
    # boxes 2 frames apart have IoU 0.5, 4 apart 0.2; the jump at 8 leaves
    # IoU < 0.4 with 6: round 2 detects 2 and 6, round 3 detects 7
    assert sorted(det.seen) == [0, 2, 4, 6, 7, 8]
    assert det.calls == 3
    np.testing.assert_array_equal(results['face_searched'],
                                  [i in det.seen for i in range(9)])


def test_face_crop_key_frames_cache(tmp_path):
    """The key-frame path reads and writes the same cache as the full one,
    and a cache holding more frames does not change its crops."""
    video = str(tmp_path / 'clip.mpg')
    shutil.copy(SPEAKER_CLIP, video)
    inds = sample_inds(9)
    clip = dict(
        imgs=[np.full((H, W, 3), i, np.uint8) for i in range(9)],
        frame_inds=inds,
        filename=video)
    fresh = FaceCrop(
        detector=RecordingDetector(), key_frames=3, smooth=None)(
            dict(clip, imgs=list(clip['imgs'])))
    cache = str(tmp_path / 'cache')
    full_det = RecordingDetector()
    FaceCrop(
        detector=full_det, cache_dir=cache)(
            dict(clip, imgs=list(clip['imgs'])))
    assert len(full_det.seen) == 9
    det = RecordingDetector()
    cached = FaceCrop(
        detector=det, key_frames=3, smooth=None, cache_dir=cache)(
            dict(clip, imgs=list(clip['imgs'])))
    assert det.seen == []  # all from the cache
    np.testing.assert_array_equal(cached['face_boxes'], fresh['face_boxes'])
    np.testing.assert_array_equal(cached['face_searched'],
                                  fresh['face_searched'])


def test_face_crop_select():
    two = type(
        'TwoFaces', (), {
            'detect':
            lambda self, frames: [
                np.array([[10, 10, 50, 50, 0.99], [100, 100, 200, 200, 0.8]],
                         np.float32) for _ in frames
            ]
        })()
    frames = dict(
        imgs=[np.ones((H, W, 3), np.uint8)] * 2, frame_inds=np.arange(2))
    largest = FaceCrop(detector=two, margin=0.0, select='largest')
    best = FaceCrop(detector=two, margin=0.0, select='highest_score')
    np.testing.assert_array_equal(
        largest(dict(frames))['face_boxes'][0], [100, 100, 200, 200])
    np.testing.assert_array_equal(
        best(dict(frames))['face_boxes'][0], [10, 10, 50, 50])


def test_face_crop_cache(mtcnn, tmp_path):
    video = str(tmp_path / 'clip.mpg')
    shutil.copy(SPEAKER_CLIP, video)
    cache_dir = str(tmp_path / 'cache')
    counting = CountingDetector(mtcnn)
    crop = FaceCrop(detector=counting, cache_dir=cache_dir)
    inds = sample_inds()

    first = crop(clip_results(video, inds))
    assert (counting.calls, counting.frames) == (1, 15)
    files = os.listdir(cache_dir)
    assert len(files) == 1 and files[0].endswith('.json')
    with open(osp.join(cache_dir, files[0])) as f:
        cached = json.load(f)
    assert cached['file'] == osp.abspath(video)
    assert sorted(map(int, cached['frames'])) == inds.tolist()

    # epoch 2: no detection, the same result
    second = crop(clip_results(video, inds))
    assert counting.calls == 1
    for key in ('face_boxes', 'face_detected'):
        np.testing.assert_array_equal(first[key], second[key])
    for a, b in zip(first['imgs'], second['imgs']):
        np.testing.assert_array_equal(a, b)

    # another transform instance (another worker) shares the cache; only
    # frames not seen yet are detected
    other = CountingDetector(mtcnn)
    more = np.concatenate([inds, [1, 2]])
    FaceCrop(detector=other, cache_dir=cache_dir)(clip_results(video, more))
    assert (other.calls, other.frames) == (1, 2)

    # a changed file (modification time, then size) is detected again
    stat = os.stat(video)
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    crop(clip_results(video, inds))
    assert (counting.calls, counting.frames) == (2, 30)
    with open(video, 'ab') as f:
        f.write(b'\0' * 16)
    crop(clip_results(video, inds))
    assert counting.calls == 3
    crop(clip_results(video, inds))
    assert counting.calls == 3
    # one file per version of the video, no temporary files left
    assert len(os.listdir(cache_dir)) == 3
    assert not [f for f in os.listdir(cache_dir) if f.startswith('.tmp')]

    # other detector settings do not reuse these detections
    picky = CountingDetector(FixedBoxDetector())
    FaceCrop(detector=picky, cache_dir=cache_dir)(clip_results(video, inds))
    assert picky.calls == 1


def test_face_crop_replaceable_detector():
    cfg = dict(
        detector=dict(type='FixedBoxDetector', box=(120, 90, 220, 210)),
        margin=0.0,
        smooth=None)
    # from a config, under mmemo's default scope and under mmaction's (the
    # detector's plain type is still looked up in mmemo's TASK_UTILS)
    for scope, name in (('mmemo', 'FaceCrop'), ('mmaction', 'mmemo.FaceCrop')):
        with DefaultScope.overwrite_default_scope(scope):
            crop = TRANSFORMS.build(dict(cfg, type=name))
        assert isinstance(crop.detector, FixedBoxDetector)
        results = crop(clip_results(GRID_CLIPS[0], sample_inds(4)))
        # squared around the box centre: (170, 150), side 120
        np.testing.assert_array_equal(results['face_boxes'],
                                      np.tile([110, 90, 230, 210], (4, 1)))
    with pytest.raises(TypeError, match='detect'):
        FaceCrop(detector=object())
    # the default is MTCNN, built from TASK_UTILS
    default = FaceCrop()
    assert isinstance(default.detector, MTCNNFaceDetector)
    assert default.detector.min_face_size == 40
    # picklable, for DataLoader workers started with spawn
    copy = pickle.loads(pickle.dumps(default))
    results = copy(clip_results(GRID_CLIPS[0], sample_inds(2)))
    assert results['face_detected'].all()


def transcode_to_mp4(src: str, dst: str) -> None:
    """GRID's MPEG-PS ``.mpg`` to H.264 + AAC ``.mp4``.

    mmaction's ``PyAVInit`` reads ``total_frames`` from the stream header,
    which MPEG-PS files lack (0) and MP4 files have.
    """
    with av.open(src) as inp, av.open(dst, 'w') as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout = out.add_stream('libx264', rate=25)
        vout.width, vout.height, vout.pix_fmt = W, H, 'yuv420p'
        aout = out.add_stream('aac', rate=ain.rate)
        resampler = av.AudioResampler(
            format='fltp', layout=ain.layout.name, rate=ain.rate)
        num = 0
        for frame in inp.decode(vin):
            frame = av.VideoFrame.from_ndarray(
                frame.to_ndarray(format='rgb24'), format='rgb24')
            frame.pts, frame.time_base = num, Fraction(1, 25)
            num += 1
            out.mux(vout.encode(frame))
        out.mux(vout.encode())
        inp.seek(0)
        for frame in inp.decode(ain):
            for resampled in resampler.resample(frame):
                resampled.pts = None
                out.mux(aout.encode(resampled))
        out.mux(aout.encode())


def test_face_crop_in_mmaction_pipeline(mtcnn, tmp_path):
    video = str(tmp_path / 'speaker.mp4')
    transcode_to_mp4(SPEAKER_CLIP, video)
    pipeline_cfg = [
        dict(type='mmaction.PyAVInit'),
        dict(
            type='mmaction.UniformSample',
            clip_len=8,
            num_clips=1,
            test_mode=True),
        dict(type='mmaction.PyAVDecode'),
        dict(type='FaceCrop', cache_dir=str(tmp_path / 'cache')),
        dict(type='mmaction.Resize', scale=(112, 112), keep_ratio=False),
        dict(type='mmaction.FormatShape', input_format='NCTHW'),
    ]
    with DefaultScope.overwrite_default_scope('mmemo'):
        pipeline = Compose(pipeline_cfg)
    assert isinstance(pipeline.transforms[3], FaceCrop)
    results = pipeline(dict(filename=video, start_index=0, modality='RGB'))
    assert results['total_frames'] == 75
    assert results['imgs'].shape == (1, 3, 8, 112, 112)
    assert results['face_detected'].all()
    assert results['face_boxes'].shape == (8, 4)
    assert results['face_fallback_frames'] == 0
    centres = (results['face_boxes'][:, :2] + results['face_boxes'][:, 2:]) / 2
    assert np.all(np.abs(centres - [177, 172]) < 15)
    # the second pass reads the detections from the cache
    assert len(os.listdir(tmp_path / 'cache')) == 1
    face_crop = pipeline.transforms[3]
    face_crop.detector = CountingDetector(face_crop.detector)
    again = pipeline(dict(filename=video, start_index=0, modality='RGB'))
    np.testing.assert_array_equal(again['face_boxes'], results['face_boxes'])
    assert face_crop.detector.calls == 0
