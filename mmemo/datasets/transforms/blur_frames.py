# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BlurFrames(BaseTransform):
    """Blur every frame with a Gaussian kernel.

    A robustness perturbation (defocus / motion-free blur). ``sigma`` is in
    pixels of the frames it gets: put it on the decoded frames, before
    resizing and cropping, so that the same ``sigma`` means the same blur
    on the source video whatever the model's input size. The kernel covers
    ±3 sigma; borders are reflected (OpenCV's ``GaussianBlur``).

    Required keys: ``imgs`` (list of ``H×W×C`` frames or a ``[T, H, W,
    C]`` array).

    Modified keys: ``imgs``.

    Args:
        sigma (float): Standard deviation of the kernel in pixels; 0 leaves
            the frames unchanged.
    """

    def __init__(self, sigma: float) -> None:
        assert sigma >= 0, f'sigma must be >= 0, got {sigma}'
        self.sigma = float(sigma)

    def _blur(self, img: np.ndarray) -> np.ndarray:
        size = 2 * int(np.ceil(3 * self.sigma)) + 1
        out = cv2.GaussianBlur(
            img, (size, size),
            sigmaX=self.sigma,
            sigmaY=self.sigma,
            borderType=cv2.BORDER_REFLECT_101)
        return out.reshape(img.shape)  # cv2 drops a single channel axis

    def transform(self, results: Dict) -> Dict:
        """Blur the frames.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        if self.sigma == 0:
            return results
        imgs = results['imgs']
        out = [self._blur(np.ascontiguousarray(img)) for img in imgs]
        results['imgs'] = np.stack(out) if isinstance(imgs,
                                                      np.ndarray) else out
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(sigma={self.sigma})'
