# Copyright (c) mmemo contributors. All rights reserved.
# The cascade follows facenet-pytorch's ``detect_face``
# (https://github.com/timesler/facenet-pytorch, MIT licence,
# Copyright (c) 2019 Timothy Esler), whose MTCNN weights it uses.
import importlib.util
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torchvision.ops import batched_nms

from mmemo.registry import TASK_UTILS
from .mtcnn_nets import ONet, PNet, RNet

WEIGHT_FILES = ('pnet.pt', 'rnet.pt', 'onet.pt')
WEIGHTS_ENV = 'MMEMO_FACE_WEIGHTS'
FETCH_COMMAND = 'python tools/misc/fetch_face_weights.py'


def _has_weights(path: Optional[str]) -> bool:
    return bool(path) and all(
        osp.isfile(osp.join(path, name)) for name in WEIGHT_FILES)


def _facenet_data_dir() -> Optional[str]:
    """``facenet_pytorch/data`` of an installed facenet-pytorch, if any.

    Found with ``find_spec`` so that the package (which needs old torch and
    NumPy versions) is never imported.
    """
    try:
        spec = importlib.util.find_spec('facenet_pytorch')
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return osp.join(list(spec.submodule_search_locations)[0], 'data')


def mtcnn_weight_dirs() -> List[Tuple[str, Optional[str]]]:
    """The places searched for the MTCNN weights, in order.

    Returns:
        list[tuple]: ``(description, directory or None)`` pairs.
    """
    return [
        (f'${WEIGHTS_ENV}', os.environ.get(WEIGHTS_ENV) or None),
        ('<sys.prefix>/share/mmemo/mtcnn',
         osp.join(sys.prefix, 'share', 'mmemo', 'mtcnn')),
        ('an installed facenet_pytorch/data', _facenet_data_dir()),
        ('~/.cache/mmemo/mtcnn', osp.expanduser('~/.cache/mmemo/mtcnn')),
    ]


def resolve_mtcnn_weights(weights_dir: Optional[str] = None) -> str:
    """Find the directory holding ``pnet.pt``, ``rnet.pt`` and ``onet.pt``.

    An explicit ``weights_dir`` must hold the files. Otherwise the places of
    :func:`mtcnn_weight_dirs` are tried in order: ``$MMEMO_FACE_WEIGHTS``,
    ``<sys.prefix>/share/mmemo/mtcnn`` (where the fetch script writes),
    an installed ``facenet_pytorch/data`` and ``~/.cache/mmemo/mtcnn``.

    Args:
        weights_dir (str, optional): Directory given by the user.

    Returns:
        str: The directory found.

    Raises:
        FileNotFoundError: No searched place has all three files.
    """
    files = ', '.join(WEIGHT_FILES)
    if weights_dir is not None:
        weights_dir = osp.expanduser(weights_dir)
        if _has_weights(weights_dir):
            return weights_dir
        raise FileNotFoundError(
            f'MTCNN weights ({files}) not found in weights_dir='
            f'{weights_dir!r}. Fetch them with `{FETCH_COMMAND} --out '
            f'{weights_dir}`.')
    searched = []
    for description, path in mtcnn_weight_dirs():
        if _has_weights(path):
            return path
        searched.append(f'  {description}: {path or "(not set)"}')
    raise FileNotFoundError(
        f'MTCNN face detector weights ({files}) not found. Searched:\n' +
        '\n'.join(searched) + f'\nFetch them with `{FETCH_COMMAND}` (writes '
        f'to <sys.prefix>/share/mmemo/mtcnn) or point ${WEIGHTS_ENV} or '
        '`weights_dir` at a directory holding them.')


def _nms_min(boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray,
             threshold: float) -> np.ndarray:
    """Greedy NMS on intersection over the *smaller* area, per group.

    MTCNN's last stage uses this "Min" overlap, so that a small box inside a
    bigger one (e.g. a second box on the same face) is dropped too;
    torchvision only offers IoU. Few boxes reach this stage, so a plain loop
    is fine.

    Args:
        boxes (np.ndarray): ``[K, 4]`` boxes.
        scores (np.ndarray): ``[K]`` scores.
        groups (np.ndarray): ``[K]`` group (image) index of each box.
        threshold (float): Boxes overlapping a kept one by more are
            dropped.

    Returns:
        np.ndarray: Indices of the kept boxes, by decreasing score.
    """
    order = np.argsort(-scores, kind='stable')
    b, g = boxes[order], groups[order]
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    lt = np.maximum(b[:, None, :2], b[None, :, :2])  # [K, K, 2]
    rb = np.minimum(b[:, None, 2:], b[None, :, 2:])  # [K, K, 2]
    wh = np.clip(rb - lt + 1, 0, None)  # [K, K, 2]
    overlap = wh[..., 0] * wh[..., 1] / np.minimum(area[:, None], area[None])
    overlap[g[:, None] != g[None]] = 0  # boxes of other images never clash
    keep = []
    suppressed = np.zeros(len(b), dtype=bool)
    for i in range(len(b)):
        if not suppressed[i]:
            keep.append(i)
            suppressed |= overlap[i] > threshold
    return order[keep]


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an ``H×W×3`` uint8 image, halving with a Gaussian first.

    Bilinear resizing aliases below half size, and OpenCV's ``INTER_AREA``
    is slow for non-integer ratios; ``pyrDown`` + bilinear is fast and
    smooth.
    """
    while img.shape[1] >= 2 * width and img.shape[0] >= 2 * height:
        img = cv2.pyrDown(img)
    if img.shape[:2] == (height, width):
        return img
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)


def _to_edges(boxes: torch.Tensor) -> torch.Tensor:
    """MTCNN's 1-based inclusive boxes to 0-based pixel edges."""
    # (x1, y1) is the first pixel counted from 1, (x2, y2) the last one
    boxes = boxes.clone()
    boxes[:, :2] -= 1
    return boxes


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow ``[K, >=4]`` boxes to squares around the same centre."""
    wh = boxes[:, 2:4] - boxes[:, :2]  # [K, 2]
    side = wh.max(dim=1, keepdim=True).values  # [K, 1]
    boxes = boxes.clone()
    boxes[:, :2] = boxes[:, :2] + (wh - side) / 2
    boxes[:, 2:4] = boxes[:, :2] + side
    return boxes


def _regress(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Apply the networks' box offsets, given in units of box size."""
    # MTCNN's inclusive pixel convention: a box [1, 12] is 12 pixels wide
    wh = boxes[:, 2:4] - boxes[:, :2] + 1  # [K, 2]
    boxes = boxes.clone()
    boxes[:, :4] = boxes[:, :4] + offsets * wh.repeat(1, 2)
    return boxes


@TASK_UTILS.register_module()
class MTCNNFaceDetector:
    """MTCNN face detector (Zhang et al., 2016), batched over frames.

    The weights are those of facenet-pytorch 2.6.0 (MIT, Copyright (c)
    2019 Timothy Esler), fetched by ``tools/misc/fetch_face_weights.py``;
    see :func:`resolve_mtcnn_weights` for where they are looked up.

    The cascade is the standard one: an image pyramid scored by P-Net,
    NMS within each scale (IoU 0.5) and across scales (IoU 0.7), box
    regression and squaring, then R-Net on 24×24 crops (NMS IoU 0.7,
    regression, squaring) and O-Net on 48×48 crops (regression, NMS 0.7 on
    the overlap over the smaller box). For speed on CPU, images are resized
    with OpenCV (``pyrDown`` + bilinear) rather than torch's area
    interpolation, and each pyramid level is made from the previous one.
    Crop parts outside the frame are black, as in the original MTCNN.
    Frames larger than ``max_side`` are downscaled first and the boxes
    mapped back.

    **Detector interface** (what :class:`FaceCrop` needs; any class in
    ``TASK_UTILS`` with this method can replace this one)::

        detect(frames) -> list[np.ndarray]

    ``frames`` is an ``[N, H, W, 3]`` uint8 RGB array (or a list of
    ``H×W×3`` arrays, or one such array); the result has one float32
    ``[K, 5]`` array per frame with rows ``(x1, y1, x2, y2, score)`` in
    pixel coordinates of that frame (``x2``/``y2`` exclusive; boxes may
    reach past the border), sorted by decreasing score, ``[0, 5]`` when no
    face was found. An optional ``cache_tag`` string attribute names the
    settings, so that cached detections of other settings are not reused.

    Args:
        weights_dir (str, optional): Directory with ``pnet.pt``, ``rnet.pt``
            and ``onet.pt``. Defaults to None (search, see
            :func:`resolve_mtcnn_weights`).
        min_face_size (int): Smallest face searched for, in pixels of the
            (downscaled, see ``max_side``) detection image. Larger values
            make the pyramid smaller and detection faster. Defaults to 20.
        thresholds (Sequence[float]): Face probability thresholds of P-, R-
            and O-Net. Defaults to ``(0.6, 0.7, 0.7)``.
        factor (float): Scale step of the image pyramid. Defaults to 0.709.
        max_side (int, optional): Frames whose longer side exceeds this are
            downscaled to it before detection. None keeps the full size.
            Defaults to 480.
        batch_size (int): Frames run through the cascade at once. Defaults
            to 32.
        device (str): Torch device of the networks. Defaults to ``'cpu'``.
    """

    def __init__(self,
                 weights_dir: Optional[str] = None,
                 min_face_size: int = 20,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7),
                 factor: float = 0.709,
                 max_side: Optional[int] = 480,
                 batch_size: int = 32,
                 device: str = 'cpu') -> None:
        if len(thresholds) != 3:
            raise ValueError(f'thresholds needs 3 values, got {thresholds}')
        if not 0 < factor < 1:
            raise ValueError(f'factor must be in (0, 1), got {factor}')
        if min_face_size < 12:
            raise ValueError('min_face_size must be >= 12 (the P-Net '
                             f'window), got {min_face_size}')
        self.weights_dir = resolve_mtcnn_weights(weights_dir)
        self.min_face_size = min_face_size
        self.thresholds = tuple(float(t) for t in thresholds)
        self.factor = factor
        self.max_side = max_side
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.pnet, self.rnet, self.onet = PNet(), RNet(), ONet()
        for net, name in zip((self.pnet, self.rnet, self.onet), WEIGHT_FILES):
            state_dict = torch.load(
                osp.join(self.weights_dir, name),
                map_location='cpu',
                weights_only=True)
            net.load_state_dict(state_dict)
            net.to(self.device).eval().requires_grad_(False)

    @property
    def cache_tag(self) -> str:
        """The settings that change the detections (for caches)."""
        return (f'MTCNN(min_face_size={self.min_face_size}, '
                f'thresholds={self.thresholds}, factor={self.factor}, '
                f'max_side={self.max_side})')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(weights_dir={self.weights_dir!r}'
                f', min_face_size={self.min_face_size}, '
                f'thresholds={self.thresholds}, factor={self.factor}, '
                f'max_side={self.max_side}, batch_size={self.batch_size}, '
                f'device={str(self.device)!r})')

    def detect(
            self, frames: Union[np.ndarray,
                                Sequence[np.ndarray]]) -> List[np.ndarray]:
        """Detect the faces in each frame.

        Args:
            frames (np.ndarray | Sequence[np.ndarray]): ``[N, H, W, 3]``
                uint8 RGB frames, a list of ``H×W×3`` frames (sizes may
                differ) or a single ``H×W×3`` frame.

        Returns:
            list[np.ndarray]: Per frame, float32 ``[K, 5]`` boxes ``(x1,
            y1, x2, y2, score)`` sorted by decreasing score.
        """
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            frames = frames[None]
        frames = list(frames)
        results: List[Optional[np.ndarray]] = [None] * len(frames)
        # the cascade runs on batches of frames of one size
        by_shape = {}
        for i, frame in enumerate(frames):
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError('frames must be H×W×3 RGB, got shape '
                                 f'{frame.shape}')
            by_shape.setdefault(frame.shape, []).append(i)
        for inds in by_shape.values():
            for start in range(0, len(inds), self.batch_size):
                chunk = inds[start:start + self.batch_size]
                boxes = self._detect_batch(
                    np.stack([frames[i] for i in chunk]))
                for i, b in zip(chunk, boxes):
                    results[i] = b
        return results

    @torch.inference_mode()
    def _detect_batch(self, frames: np.ndarray) -> List[np.ndarray]:
        """Run the cascade on ``[N, H, W, 3]`` frames of one size."""
        n, h, w = frames.shape[:3]
        scale_x = scale_y = 1.0
        if self.max_side and max(h, w) > self.max_side:
            ratio = self.max_side / max(h, w)
            dw, dh = max(1, round(w * ratio)), max(1, round(h * ratio))
            frames = np.stack([_resize(f, dw, dh) for f in frames])
            scale_x, scale_y = dw / w, dh / h
        frames = np.ascontiguousarray(frames, dtype=np.uint8)

        boxes, inds = self._propose(frames)
        if len(boxes):
            boxes, inds = self._refine_rnet(frames, boxes, inds)
        if len(boxes):
            boxes, inds = self._refine_onet(frames, boxes, inds)

        boxes = _to_edges(boxes).cpu().numpy().astype(np.float32)
        inds = inds.cpu().numpy()
        boxes[:, [0, 2]] /= scale_x
        boxes[:, [1, 3]] /= scale_y
        results = []
        for i in range(n):
            b = boxes[inds == i]
            results.append(b[np.argsort(-b[:, 4], kind='stable')])
        return results

    def _to_tensor(self, imgs: np.ndarray) -> torch.Tensor:
        """``[N, H, W, 3]`` uint8 to normalised ``[N, 3, H, W]`` floats."""
        # the permuted view is channels-last, which the CPU convs prefer
        x = torch.from_numpy(imgs).to(self.device).permute(0, 3, 1, 2)
        return (x.float() - 127.5) * 0.0078125  # [N, 3, H, W]

    def _scales(self, h: int, w: int) -> List[float]:
        """Pyramid scales: the smallest face maps to P-Net's 12 pixels."""
        scale = 12.0 / self.min_face_size
        scales = []
        while min(h, w) * scale >= 12:
            scales.append(scale)
            scale *= self.factor
        return scales

    def _propose(self,
                 frames: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
        """P-Net over the image pyramid.

        Args:
            frames (np.ndarray): ``[N, H, W, 3]`` uint8 frames.

        Returns:
            tuple[torch.Tensor]: Square ``[K, 5]`` candidate boxes (1-based
            inclusive MTCNN coordinates, score) and their image indices.
        """
        h, w = frames.shape[1:3]
        all_boxes, all_inds = [], []
        level = frames
        for scale in self._scales(h, w):
            # sizes rounded up as in the reference implementations; each
            # level is made from the previous one, which is cheaper than
            # from the full frame and needs no anti-aliasing (ratio 0.709)
            lh, lw = int(h * scale + 1), int(w * scale + 1)
            level = np.stack([_resize(f, lw, lh) for f in level])
            reg, prob = self.pnet(self._to_tensor(level))
            # reg: [N, 4, h', w'], prob: [N, h', w']
            mask = prob >= self.thresholds[0]
            idx = mask.nonzero()  # [K, 3]: image, row, col
            if not len(idx):
                continue
            score = prob[mask]  # [K]
            offsets = reg.permute(0, 2, 3, 1)[mask]  # [K, 4]
            # each P-Net cell is a 12×12 window with stride 2
            xy = idx[:, [2, 1]].to(reg.dtype)  # [K, 2]
            q1 = ((2 * xy + 1) / scale).floor()
            q2 = ((2 * xy + 12) / scale).floor()
            boxes = torch.cat([q1, q2, score[:, None], offsets], dim=1)
            keep = batched_nms(boxes[:, :4], score, idx[:, 0], 0.5)
            all_boxes.append(boxes[keep])
            all_inds.append(idx[keep, 0])
        if not all_boxes:
            return (torch.zeros((0, 5), device=self.device),
                    torch.zeros((0, ), dtype=torch.long, device=self.device))
        boxes = torch.cat(all_boxes)  # [K, 9]
        inds = torch.cat(all_inds)  # [K]
        keep = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
        boxes, inds = boxes[keep], inds[keep]
        # P-Net regresses in units of the (exclusive) window size
        wh = (boxes[:, 2:4] - boxes[:, :2]).repeat(1, 2)  # [K, 4]
        boxes = torch.cat([boxes[:, :4] + boxes[:, 5:9] * wh, boxes[:, 4:5]],
                          dim=1)  # [K, 5]
        return _square(boxes), inds

    def _crops(self, frames: np.ndarray, boxes: torch.Tensor,
               inds: torch.Tensor, size: int) -> torch.Tensor:
        """Normalised ``[K, 3, size, size]`` crops of the candidate boxes.

        Parts of a box outside the frame are black, as in the original
        MTCNN (facenet-pytorch stretches the part inside instead).
        """
        h, w = frames.shape[1:3]
        edges = _to_edges(boxes).cpu().numpy().round().astype(np.int64)
        crops = np.empty((len(edges), size, size, 3), dtype=np.uint8)
        for k, (frame_idx, box) in enumerate(zip(inds.tolist(), edges)):
            x1, y1 = box[:2]
            x2, y2 = np.maximum(box[2:4], box[:2] + 1)
            frame = frames[frame_idx]
            if x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h:
                patch = frame[y1:y2, x1:x2]
            else:
                patch = np.zeros((y2 - y1, x2 - x1, 3), dtype=np.uint8)
                ix1, iy1 = max(x1, 0), max(y1, 0)
                ix2, iy2 = min(x2, w), min(y2, h)
                if ix2 > ix1 and iy2 > iy1:
                    patch[iy1 - y1:iy2 - y1, ix1 - x1:ix2 - x1] = \
                        frame[iy1:iy2, ix1:ix2]
            crops[k] = _resize(patch, size, size)
        return self._to_tensor(crops)  # [K, 3, size, size]

    @staticmethod
    def _run(net: torch.nn.Module,
             x: torch.Tensor,
             chunk: int = 1024) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run R-/O-Net on crops in chunks, which bound the memory of the
        first conv's activations."""
        outs = [net(x[i:i + chunk]) for i in range(0, len(x), chunk)]
        return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])

    def _refine_rnet(self, frames: np.ndarray, boxes: torch.Tensor,
                     inds: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """R-Net: keep, NMS (IoU 0.7), regress and square the candidates."""
        offsets, prob = self._run(self.rnet,
                                  self._crops(frames, boxes, inds, 24))
        keep = prob > self.thresholds[1]
        boxes = torch.cat([boxes[keep, :4], prob[keep, None]], dim=1)
        offsets, inds = offsets[keep], inds[keep]
        keep = batched_nms(boxes[:, :4], boxes[:, 4], inds, 0.7)
        boxes = _regress(boxes[keep], offsets[keep])
        return _square(boxes), inds[keep]

    def _refine_onet(self, frames: np.ndarray, boxes: torch.Tensor,
                     inds: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """O-Net: keep, regress, then NMS on the overlap over the smaller
        box (0.7); the boxes are not squared any more."""
        offsets, prob = self._run(self.onet,
                                  self._crops(frames, boxes, inds, 48))
        keep = prob > self.thresholds[2]
        boxes = torch.cat([boxes[keep, :4], prob[keep, None]], dim=1)
        boxes = _regress(boxes, offsets[keep])
        inds = inds[keep]
        if not len(boxes):
            return boxes, inds
        keep = _nms_min(boxes[:, :4].cpu().numpy(), boxes[:, 4].cpu().numpy(),
                        inds.cpu().numpy(), 0.7)
        keep = torch.from_numpy(keep).to(boxes.device)
        return boxes[keep], inds[keep]
