# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CropPersonSide(BaseTransform):
    """Keep the half of the frame of a ``_left`` / ``_right`` annotation.

    Aff-Wild2 annotates videos with two people in ``<video>_left.txt`` and
    ``<video>_right.txt``; its cropped-aligned face folders separate them.
    When a model reads the raw video instead (e.g. the synthetic VA set,
    whose drawn faces sit in the two halves of the frame), this crops the
    half that belongs to the annotation; other samples are left unchanged.

    Required keys: ``imgs``, ``video_id``.

    Modified keys: ``imgs``, ``img_shape``.
    """

    def transform(self, results: Dict) -> Dict:
        """Crop the annotated person's half.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        side = results['video_id'].rsplit('_', 1)[-1]
        if side not in ('left', 'right'):
            return results
        width = results['imgs'][0].shape[1]
        half = width // 2
        cols = slice(0, half) if side == 'left' else slice(width - half, width)
        results['imgs'] = [img[:, cols] for img in results['imgs']]
        results['img_shape'] = results['imgs'][0].shape[:2]
        return results
