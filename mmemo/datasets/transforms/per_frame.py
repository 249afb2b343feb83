# Copyright (c) mmemo contributors. All rights reserved.
from typing import Callable, Dict, List, Union

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PerFrame(BaseTransform):
    """Apply transforms to every frame of a clip on its own, so that each
    frame gets its own random draw.

    MMAction2's augmentations (``RandomResizedCrop``, ``Flip``, ...) and its
    ``TorchVisionWrapper`` draw once per clip. MSAF and CFN-SR instead run a
    torchvision ``RandomResizedCrop`` and ``RandomHorizontalFlip`` on each
    frame separately::

        dict(type='PerFrame', transforms=[
            dict(type='mmaction.TorchVisionWrapper', op='RandomResizedCrop',
                 size=224, scale=(0.8, 1.4)),
            dict(type='mmaction.TorchVisionWrapper',
                 op='RandomHorizontalFlip')])

    Each wrapped transform sees the sample's other keys and ``imgs`` holding
    the one frame; keys it adds (``crop_bbox``, ``flip``, ...) differ per
    frame and are not kept. The frames must come out in one size.

    Required keys: ``imgs`` (list of ``H×W×C`` frames).

    Modified keys: ``imgs``, ``img_shape``.

    Args:
        transforms (list[dict | callable]): The transforms, as configs
            (built from mmemo's registry; ``mmaction.`` types allowed) or
            objects.
    """

    def __init__(self, transforms: List[Union[dict, Callable]]) -> None:
        if not transforms:
            raise ValueError('PerFrame needs at least one transform')
        self.transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]

    def transform(self, results: Dict) -> Dict:
        """Transform the frames one by one.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        frames = []
        for frame in results['imgs']:
            one = dict(results, imgs=[frame], img_shape=frame.shape[:2])
            for t in self.transforms:
                one = t(one)
                if one is None:
                    raise ValueError(
                        f'PerFrame: {t!r} returned None (transforms that '
                        'drop samples cannot be applied per frame)')
            frames.extend(one['imgs'])
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise ValueError(
                f'PerFrame: the frames came out in different sizes {shapes}; '
                'end the transforms with a fixed-size one (e.g. a crop or '
                'resize to a given size)')
        results['imgs'] = frames
        results['img_shape'] = frames[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transforms={self.transforms})'
