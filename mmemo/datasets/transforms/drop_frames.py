# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS
from .add_audio_noise import sample_rng


@TRANSFORMS.register_module()
class DropFrames(BaseTransform):
    """Replace a share of the sampled frames by the previous kept frame.

    A robustness perturbation that imitates a stream losing frames while
    the player holds the last one on screen: ``round(ratio * T)`` of the
    ``T`` sampled frames (halves rounded up), chosen at random among all but
    the first, become copies of the last kept frame before them. The number
    of frames, their size and the audio do not change. With several clips
    (``num_clips`` × ``clip_len`` frames, as mmaction's samplers and
    :class:`SampleSubClips` give them) the first frame of every clip is
    kept and a frame is only ever held within its own clip (so at most
    ``T - num_clips`` frames are dropped).

    The choice is deterministic: drawn from ``seed`` and the sample's
    ``sample_idx`` (or its file name).

    Required keys: ``imgs`` (list of ``H×W×C`` frames or a ``[T, H, W,
    C]`` array). Optional: ``num_clips``, ``clip_len``.

    Modified keys: ``imgs``. Added keys: ``dropped_frames`` (indices into
    ``imgs``).

    Args:
        ratio (float): Share of the frames dropped, in [0, 1).
        seed (int): Seed of the choice. Defaults to 0.
    """

    def __init__(self, ratio: float, seed: int = 0) -> None:
        assert 0 <= ratio < 1, f'ratio must be in [0, 1), got {ratio}'
        self.ratio = float(ratio)
        self.seed = seed

    def transform(self, results: Dict) -> Dict:
        """Drop frames.

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        imgs = results['imgs']
        total = len(imgs)
        clip_len = results.get('clip_len')
        num_clips = results.get('num_clips', 1)
        if not (isinstance(clip_len, (int, np.integer)) and clip_len > 0
                and clip_len * num_clips == total):
            clip_len = total
        # every frame but the first of each clip may go
        candidates = [i for i in range(total) if i % clip_len]
        num = min(int(np.floor(self.ratio * total + 0.5)), len(candidates))
        rng = sample_rng(self.seed, results)
        chosen = set(rng.choice(candidates, num,
                                replace=False).tolist()) if num else set()
        out = list(imgs)
        for i in range(total):
            if i % clip_len == 0 or i not in chosen:
                kept = out[i]
            else:
                out[i] = kept.copy()
        results['imgs'] = np.stack(out) if isinstance(imgs,
                                                      np.ndarray) else out
        results['dropped_frames'] = sorted(chosen)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ratio={self.ratio}, '
                f'seed={self.seed})')
