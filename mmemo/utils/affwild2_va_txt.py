# Copyright (c) mmemo contributors. All rights reserved.
"""The Aff-Wild2 valence/arousal annotation text format, read and written.

One file per annotated face: the header ``valence,arousal``, then line
``k + 2`` holds ``v,a`` of frame ``k`` (0-based; the face image
``0000k.jpg`` in 1-based numbering). Values lie in ``[-1, 1]``; ``-5`` (any
value below -1, in either column) marks an unannotated frame.

The datasets read annotations in it (``AffWild2VADataset``), ``CCCMetric``
writes prediction files in it (the challenge's submission format) and the
synthetic generator writes its annotations in it.
"""
from typing import List, Optional, Sequence

import numpy as np

VA_HEADER = 'valence,arousal'
#: The value written for an unannotated frame.
UNANNOTATED = -5.0


def va_annotation_text(values: np.ndarray,
                       valid: np.ndarray,
                       header: Optional[Sequence[str]] = None) -> str:
    """The text of an Aff-Wild2 VA file (what :func:`parse_va_annotation`
    reads): the header, then one line per frame, 6 decimals, ``-5`` in
    every column of a frame that is not valid.

    Args:
        values (np.ndarray): ``[T, D]`` values per frame.
        valid (np.ndarray): ``[T]`` bool, the frames that have values.
        header (sequence of str, optional): Column names; None =
            ``valence,arousal``.

    Returns:
        str: The file's text.
    """
    missing = ','.join([f'{UNANNOTATED:g}'] * values.shape[1])  # -5,-5
    lines = [VA_HEADER if header is None else ','.join(header)]
    lines += [
        ','.join(f'{x:.6f}' for x in row) if ok else missing
        for row, ok in zip(values, valid)
    ]
    return '\n'.join(lines) + '\n'


def _first_bad_line(lines: List[str]) -> str:
    """Describe the first frame line that is not two finite numbers."""
    for number, line in enumerate(lines, 2):
        parts = line.split(',')
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 2 or not np.isfinite(values).all():
            return f'line {number}: expected "valence,arousal" numbers, ' \
                f'got {line!r}'
    return 'cannot be parsed'


def parse_va_annotation(text: str) -> np.ndarray:
    """Parse the text of an Aff-Wild2 VA annotation file.

    Args:
        text (str): The file's text (see the module's description).

    Returns:
        np.ndarray: float32 ``[N, 2]`` valence, arousal per frame, as
        written (unannotated values kept).

    Raises:
        ValueError: The text is not such a file; the message names the
            first offending line.
    """
    lines = text.splitlines()
    header = lines[0].replace(' ', '').lower() if lines else ''
    if header != VA_HEADER:
        raise ValueError(f'first line must be "{VA_HEADER}" (an Aff-Wild2 '
                         f'VA annotation), got {lines[0] if lines else ""!r}')
    rows = lines[1:]
    while rows and not rows[-1].strip():  # trailing newlines only
        rows.pop()
    if not rows:
        raise ValueError('has no frame line after the header')
    try:
        labels = np.loadtxt(
            rows, delimiter=',', dtype=np.float32, ndmin=2, comments=None)
    except ValueError:
        labels = None
    if labels is None or labels.shape[1] != 2 or \
            not np.isfinite(labels).all():
        raise ValueError(_first_bad_line(rows))
    above = np.flatnonzero((labels > 1 + 1e-6).any(axis=1))
    if len(above):
        raise ValueError(f'line {above[0] + 2}: value above 1 '
                         f'({rows[above[0]]!r}); valence and arousal lie in '
                         '[-1, 1], unannotated frames are -5')
    return labels
