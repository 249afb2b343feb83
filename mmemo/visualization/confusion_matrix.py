# Copyright (c) mmemo contributors. All rights reserved.
from typing import Optional, Sequence

import numpy as np


def draw_confusion_matrix(matrix: np.ndarray,
                          classes: Optional[Sequence[str]] = None,
                          normalize: bool = True,
                          fractions: bool = False) -> np.ndarray:
    """Render a confusion matrix as an RGB image with matplotlib.

    Args:
        matrix (np.ndarray): ``[K, K]`` counts, rows = ground truth.
        classes (sequence of str, optional): Class names.
        normalize (bool): Colour by row-normalised recall (the counts are
            written in the cells unless ``fractions``). Defaults to True.
        fractions (bool): Write the row-normalised fractions (recall per
            cell) instead of the counts, and colour by them.
            Defaults to False.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8 image.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    matrix = np.asarray(matrix)
    k = len(matrix)
    names = list(classes) if classes else [str(i) for i in range(k)]
    rows = matrix.sum(axis=1, keepdims=True)
    shade = np.divide(
        matrix, rows, out=np.zeros(matrix.shape), where=rows > 0) \
        if normalize or fractions else matrix
    size = 2.5 + 0.6 * k
    fig, ax = plt.subplots(figsize=(size, size), dpi=80)
    ax.imshow(shade, cmap='Blues', vmin=0)
    ax.set_xticks(range(k), names, rotation=45, ha='right')
    ax.set_yticks(range(k), names)
    ax.set_xlabel('predicted')
    ax.set_ylabel('ground truth')
    for t in range(k):
        for p in range(k):
            ax.text(
                p,
                t,
                f'{shade[t, p]:.2f}' if fractions else str(int(matrix[t, p])),
                ha='center',
                va='center',
                color='white' if shade[t, p] > 0.5 * shade.max() else 'black')
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
