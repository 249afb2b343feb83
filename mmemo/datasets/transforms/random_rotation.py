# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomRotation(BaseTransform):
    """Rotate every frame of a clip by one random angle.

    AVT-CA's training augmentation (after Chumachenko et al.): an angle is
    drawn uniformly from ``[-max_angle, max_angle]`` once per clip, so the
    frames stay consistent with each other, and each frame is rotated about
    its centre; uncovered corners are filled with ``fill`` (0, black, as
    torchvision's ``RandomRotation``).

    Required keys: ``imgs`` (list of ``[H, W, C]`` frames).

    Modified keys: ``imgs``. Added keys: ``rotation`` (the angle, degrees,
    counter-clockwise).

    Args:
        max_angle (float): Largest rotation in degrees. Defaults to 10.
        fill (int): Value of the uncovered pixels. Defaults to 0.
    """

    def __init__(self, max_angle: float = 10., fill: int = 0) -> None:
        if max_angle < 0:
            raise ValueError(f'max_angle must be >= 0, got {max_angle}')
        self.max_angle = max_angle
        self.fill = fill

    def transform(self, results: Dict) -> Dict:
        """Rotate the frames.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        angle = float(np.random.uniform(-self.max_angle, self.max_angle))
        rotated = []
        for img in results['imgs']:
            h, w = img.shape[:2]
            matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle,
                                             1.0)
            out = cv2.warpAffine(
                img,
                matrix, (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(self.fill, ) * 3)
            rotated.append(out.reshape(img.shape))  # keep [H, W, 1] frames
        results['imgs'] = rotated
        results['rotation'] = angle
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_angle={self.max_angle}, '
                f'fill={self.fill})')
