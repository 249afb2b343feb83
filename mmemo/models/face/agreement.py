# Copyright (c) mmemo contributors. All rights reserved.
"""How well a fast face-crop setting follows the reference detector.

The measure behind the FaceCrop settings of the configs (see
``docs/en/user_guides/faces.md``): for every frame of a video, the face box
:class:`~mmemo.datasets.transforms.FaceCrop` follows (``face_tracks``:
smoothed centre, the clip's median face size, before the margin) with the
setting under test, against the same box with the reference setting (MTCNN
on every frame). A video's frames are split into interleaved clips of about
the configs' length (frames ``o, o + s, o + 2s, ...`` for ``o < s``), so
that every frame is scored once, at the configs' sampling density.
"""
from typing import Dict, List, Sequence

import av
import numpy as np

from mmemo.datasets.transforms.face_crop import pair_iou

#: FaceCrop's detector before key frames (its default): the reference
REFERENCE_DETECTOR = dict(type='MTCNNFaceDetector', min_face_size=40)
#: a frame agrees from this IoU of its box with the reference's
IOU_THRESHOLD = 0.9
#: the share of (scored) frames that must agree
AGREEMENT_GOAL = 0.95


def read_frames(path: str) -> np.ndarray:
    """All frames of a video, ``[N, H, W, 3]`` uint8 RGB.

    Args:
        path (str): The video file.

    Returns:
        np.ndarray: The frames.
    """
    try:
        with av.open(path) as container:
            frames = [
                f.to_ndarray(format='rgb24') for f in container.decode(video=0)
            ]
    except (av.error.FFmpegError, IndexError) as e:
        raise ValueError(f'cannot decode the video frames of {path}: {e}')
    if not frames:
        raise ValueError(f'{path} has no video frames')
    return np.stack(frames)


def interleaved_clips(num_frames: int, clip_len: int) -> List[np.ndarray]:
    """Frame indices of interleaved clips covering every frame once.

    Args:
        num_frames (int): Frames of the video.
        clip_len (int): Frames a clip should have (the configs' sampling).

    Returns:
        list[np.ndarray]: ``s = max(1, num_frames // clip_len)`` clips,
        clip ``o`` holding frames ``o, o + s, ...``.
    """
    stride = max(1, num_frames // clip_len)
    return [np.arange(o, num_frames, stride) for o in range(stride)]


def face_track_agreement(face_crop,
                         reference,
                         videos: Sequence[str],
                         clip_len: int,
                         iou_thr: float = IOU_THRESHOLD) -> Dict:
    """Agreement of two FaceCrop settings' face boxes on every frame.

    A frame is scored when the reference detector found a face in it
    (``face_detected``); frames where it found none are only counted
    (``unscored``: MTCNN misses many drawn faces). A scored frame agrees when
    the IoU of the two ``face_tracks`` boxes is at least ``iou_thr``; a clip
    where the setting under test found no face (a centre-crop fallback)
    scores IoU 0 on its scored frames.

    Args:
        face_crop (FaceCrop): The setting under test.
        reference (FaceCrop): The reference setting.
        videos (Sequence[str]): The videos.
        clip_len (int): Frames per clip (see :func:`interleaved_clips`).
        iou_thr (float): IoU from which a frame agrees. Defaults to 0.9.

    Returns:
        dict: ``frames`` (all), ``scored``, ``unscored``, ``agree``
        (scored frames with IoU >= ``iou_thr``), ``fraction`` (``agree /
        scored``, NaN without scored frames), ``min_iou``, ``median_iou``,
        ``searched_per_frame`` (share of the frames the setting under test
        ran its detector on), ``videos``.
    """
    ious, frames, unscored, searched = [], 0, 0, 0
    for path in videos:
        video = read_frames(path)
        for inds in interleaved_clips(len(video), clip_len):
            out = []
            for crop in (face_crop, reference):
                results = crop(
                    dict(imgs=[video[i] for i in inds], frame_inds=inds))
                out.append(results)
            fast, ref = out
            frames += len(inds)
            scored = ref['face_detected']
            unscored += int((~scored).sum())
            searched += int(fast['face_searched'].sum())
            if not scored.any():
                continue
            if 'face_tracks' not in fast:
                ious.append(np.zeros(int(scored.sum())))
                continue
            ious.append(
                pair_iou(fast['face_tracks'][scored],
                         ref['face_tracks'][scored]))
    iou = np.concatenate(ious) if ious else np.zeros(0)
    agree = int((iou >= iou_thr).sum())
    return dict(
        videos=len(videos),
        frames=frames,
        scored=len(iou),
        unscored=unscored,
        agree=agree,
        fraction=agree / len(iou) if len(iou) else float('nan'),
        min_iou=float(iou.min()) if len(iou) else float('nan'),
        median_iou=float(np.median(iou)) if len(iou) else float('nan'),
        searched_per_frame=searched / max(frames, 1))
