# Copyright (c) mmemo contributors. All rights reserved.
"""Drawing the synthetic faces and their backgrounds with OpenCV.

A face is a skin-coloured ellipse with hair, two eyes, brows, a nose and a
mouth arc. One scalar, the *expression* ``e`` in ``[-1, 1]``, bends the mouth
(``+1`` corners up, ``0`` flat, ``-1`` corners down) and moves the brows with
it; everything else about a face is fixed by its actor's style, its position
and its size. Coordinates are float pixels drawn with OpenCV's fixed-point
``shift``, so a continuous expression (the dimensional variant's valence)
moves the mouth by sub-pixel amounts instead of in one-pixel steps.
"""
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

# OpenCV fixed-point precision: coordinates are multiplied by 2**SHIFT.
SHIFT = 4
_SCALE = 1 << SHIFT

# RGB skin tones, light to dark. The darkest is kept light enough for the
# mouth and brows (drawn darker than the skin) to stay visible.
SKIN_TONES = ((255, 224, 196), (241, 194, 155), (224, 172, 132),
              (198, 134, 96), (161, 102, 70), (141, 92, 62))
HAIR_COLOURS = ((40, 30, 25), (90, 60, 35), (160, 120, 70), (20, 20, 20),
                (120, 50, 30), (200, 190, 180))
IRIS_COLOURS = ((70, 45, 25), (40, 90, 140), (60, 110, 60), (35, 35, 35))

# Corner-to-centre depth of the mouth arc at |e| = 1, in mouth half-widths.
# Generator 1.1 deepened the bend, doubled the brow tilt, thickened the lines
# (from 0.45, 0.03 and 2.5-3.5 % of the face height): a per-frame CNN
# trained from scratch on the ~400 training clips (EfficientFace in
# configs/avtca_synth.py) needed about twice as many epochs to find the
# subtler 1.0 expressions.
MOUTH_DEPTH = 0.8
# Brow lift and extra inner-end lift at e = 1, in face heights.
BROW_LIFT = 0.025
BROW_TILT = 0.07


def random_face_style(rng: np.random.Generator) -> Dict:
    """Draw the look of one actor: shape, colours and feature layout.

    Lengths are fractions of the face width (``*_w``) or height (``*_h``),
    so the same actor can be drawn at any size.

    Args:
        rng (np.random.Generator): The actor's random generator.

    Returns:
        dict: JSON-friendly style of :func:`draw_face`.
    """
    skin = np.array(SKIN_TONES[rng.integers(len(SKIN_TONES))], float)
    skin = np.clip(skin + rng.uniform(-12, 12, 3), 0, 255)
    return dict(
        skin=[int(round(c)) for c in skin],
        hair=list(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]),
        iris=list(IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))]),
        aspect=float(rng.uniform(0.68, 0.85)),
        hair_h=float(rng.uniform(0.04, 0.1)),
        eye_dx_w=float(rng.uniform(0.17, 0.23)),
        eye_dy_h=float(rng.uniform(0.08, 0.14)),
        eye_r_w=float(rng.uniform(0.05, 0.075)),
        brow_len_w=float(rng.uniform(0.14, 0.2)),
        brow_gap_h=float(rng.uniform(0.07, 0.1)),
        nose_dy_h=float(rng.uniform(0.03, 0.08)),
        mouth_dy_h=float(rng.uniform(0.23, 0.28)),
        mouth_hw_w=float(rng.uniform(0.2, 0.27)),
        line_h=float(rng.uniform(0.04, 0.055)))


def _pt(x: float, y: float) -> Tuple[int, int]:
    """A float point in OpenCV's fixed-point coordinates."""
    return int(round(x * _SCALE)), int(round(y * _SCALE))


def _ellipse(img: np.ndarray,
             centre: Sequence[float],
             axes: Sequence[float],
             colour: Sequence[int],
             thickness: int = -1) -> None:
    cv2.ellipse(img, _pt(*centre), _pt(*axes), 0, 0, 360,
                tuple(int(c) for c in colour), thickness, cv2.LINE_AA, SHIFT)


def _polyline(img: np.ndarray, points: np.ndarray, colour: Sequence[int],
              thickness: int) -> None:
    pts = np.round(points * _SCALE).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(img, [pts], False, tuple(int(c) for c in colour), thickness,
                  cv2.LINE_AA, SHIFT)


def mouth_geometry(centre: Sequence[float], height: float,
                   style: Dict) -> Dict[str, float]:
    """Where the mouth of a face lies, for drawing and for measuring it.

    Args:
        centre (sequence of float): Face centre ``(x, y)`` in pixels.
        height (float): Face height in pixels.
        style (dict): The actor's style.

    Returns:
        dict: ``x``, ``y`` (mouth centre), ``half_width`` and ``depth``
        (corner-to-centre height of the arc at ``|e| = 1``), in pixels.
    """
    half_width = style['mouth_hw_w'] * style['aspect'] * height
    return dict(
        x=float(centre[0]),
        y=float(centre[1] + style['mouth_dy_h'] * height),
        half_width=float(half_width),
        depth=float(MOUTH_DEPTH * half_width))


def mouth_curve(mouth: Dict[str, float],
                expression: float,
                num_points: int = 17) -> np.ndarray:
    """Points of the mouth arc ``y = y0 - e * depth * (u**2 - 1/2)``.

    ``u`` runs from -1 to 1 across the mouth; the arc keeps its mean height,
    so only its bend (not its position) tells the expression.

    Args:
        mouth (dict): :func:`mouth_geometry`.
        expression (float): ``e`` in ``[-1, 1]``.
        num_points (int): Points on the polyline. Defaults to 17.

    Returns:
        np.ndarray: ``[num_points, 2]`` float ``(x, y)`` pixels.
    """
    u = np.linspace(-1, 1, num_points)
    x = mouth['x'] + u * mouth['half_width']
    y = mouth['y'] - expression * mouth['depth'] * (u**2 - 0.5)
    return np.stack([x, y], axis=1)


def draw_face(img: np.ndarray, centre: Sequence[float], height: float,
              style: Dict, expression: float) -> None:
    """Draw a face in place.

    Args:
        img (np.ndarray): ``[H, W, 3]`` uint8 RGB image, drawn on in place.
        centre (sequence of float): Face centre ``(x, y)`` in pixels.
        height (float): Face height in pixels; the width is
            ``style['aspect'] * height``.
        style (dict): The actor's style (:func:`random_face_style`).
        expression (float): ``e`` in ``[-1, 1]``: mouth bend and brow pose.
    """
    cx, cy = float(centre[0]), float(centre[1])
    h = float(height)
    w = style['aspect'] * h
    skin = np.array(style['skin'], float)
    line = max(1, int(round(style['line_h'] * h)))
    # Hair first: the face ellipse covers all of it but a rim and the top.
    _ellipse(img, (cx, cy - style['hair_h'] * h),
             (0.54 * w, 0.5 * h + 0.02 * h), style['hair'])
    _ellipse(img, (cx, cy), (0.5 * w, 0.5 * h), skin)
    _ellipse(img, (cx, cy + style['nose_dy_h'] * h), (0.05 * w, 0.07 * h),
             skin * 0.82)
    eye_y = cy - style['eye_dy_h'] * h
    eye_r = style['eye_r_w'] * w
    brow_y = eye_y - eye_r - style['brow_gap_h'] * h
    lift = BROW_LIFT * expression * h
    tilt = BROW_TILT * expression * h
    for side in (-1, 1):
        eye_x = cx + side * style['eye_dx_w'] * w
        _ellipse(img, (eye_x, eye_y), (1.4 * eye_r, eye_r), (245, 245, 245))
        _ellipse(img, (eye_x, eye_y), (0.7 * eye_r, 0.7 * eye_r),
                 style['iris'])
        _ellipse(img, (eye_x, eye_y), (0.3 * eye_r, 0.3 * eye_r), (10, 10, 10))
        half = 0.5 * style['brow_len_w'] * w
        # Inner ends (towards the nose) move more than the outer ones:
        # raised for e > 0, pulled down into a scowl for e < 0.
        brow = np.array([[eye_x + side * half, brow_y - lift],
                         [eye_x - side * half, brow_y - lift - tilt]])
        _polyline(img, brow, style['hair'], line)
    mouth = mouth_geometry((cx, cy), h, style)
    # Darker than the skin whatever its tone, with a red tint.
    lips = np.clip(skin * 0.35 + (45, 0, 5), 0, 255)
    _polyline(img, mouth_curve(mouth, expression), lips, line)


def random_background(rng: np.random.Generator) -> Dict:
    """Draw a background: a plain colour with a vertical brightness ramp.

    Args:
        rng (np.random.Generator): The clip's random generator.

    Returns:
        dict: JSON-friendly ``colour`` (RGB) and ``gradient``.
    """
    return dict(
        colour=[float(c) for c in rng.uniform(30, 225, 3)],
        gradient=float(rng.uniform(-0.3, 0.3)))


def draw_background(height: int, width: int, colour: Sequence[float],
                    gradient: float) -> np.ndarray:
    """Render a background from :func:`random_background`'s parameters.

    Args:
        height (int): Frame height.
        width (int): Frame width.
        colour (sequence of float): RGB colour at mid-height.
        gradient (float): Relative brightness change from top to bottom.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8 RGB image.
    """
    ramp = 1 + gradient * np.linspace(-0.5, 0.5, height)[:, None, None]
    img = np.clip(np.asarray(colour, float) * ramp, 0, 255)
    return np.ascontiguousarray(
        np.broadcast_to(img, (height, width, 3)).round().astype(np.uint8))


def finish_frame(img: np.ndarray, brightness: float, noise_std: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Apply a global brightness gain and per-frame sensor noise.

    Args:
        img (np.ndarray): ``[H, W, 3]`` uint8 RGB drawing.
        brightness (float): Gain on all pixels.
        noise_std (float): Standard deviation of the Gaussian pixel noise.
        rng (np.random.Generator): Source of the noise.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8 RGB frame.
    """
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    frame = img.astype(np.float32) * brightness + noise * noise_std
    return np.clip(np.round(frame), 0, 255).astype(np.uint8)
