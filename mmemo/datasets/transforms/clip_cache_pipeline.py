# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional, Sequence

from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from mmemo.registry import TRANSFORMS
from ..clip_cache import ClipCache, split_pipeline


@TRANSFORMS.register_module()
class ClipCachePipeline(BaseTransform):
    """A config's pipeline with its deterministic head read from a clip
    cache.

    ``pipeline`` is the config's own pipeline (e.g. ``{{_base_.train_
    dataloader.dataset.pipeline}}``). Its steps up to and including the
    first ``until`` step (decode, face crop, aligned audio) are *not* run:
    their output is read from the :class:`~mmemo.datasets.clip_cache.
    ClipCache` in ``cache_dir`` that ``tools/data/cache_clips.py CONFIG``
    made; the remaining steps (random crops and flips, audio features,
    packing) run on it every epoch, drawing new random numbers each time.
    A frame sampler among the cached steps is cached in its deterministic
    ``test_mode=True`` form (a training pipeline loses its frame-sampling
    jitter). The cache must have been made by the same cached steps (their
    settings' sha256) from the same files (size and modification time);
    otherwise the sample is refused naming both. A sample the cached steps
    refused raises its :class:`~mmemo.datasets.BadSampleError` again, as
    when decoding.

    Required keys: those of the sample's data info (``filename``, ...).

    Added keys: those the cached steps add, then the rest's.

    Args:
        cache_dir (str): The clip cache folder.
        until (str): The type of the last cached step, e.g.
            ``'SampleAlignedAudio'``.
        pipeline (sequence of dict): The whole pipeline.
    """

    def __init__(self, cache_dir: str, until: str,
                 pipeline: Sequence[Dict]) -> None:
        self.cache_dir = cache_dir
        self.until = until
        self.cached_steps, rest = split_pipeline(pipeline, until)
        self.rest = Compose(rest)
        self._cache: Optional[ClipCache] = None  # loaded once per process

    @property
    def cache(self) -> ClipCache:
        """The clip cache, its index read on first use."""
        if self._cache is None:
            self._cache = ClipCache(self.cache_dir, self.cached_steps).load()
        return self._cache

    def transform(self, results: Dict) -> Optional[Dict]:
        """Read the cached steps' output, run the other steps.

        Args:
            results (dict): The sample's data info.

        Returns:
            dict: The result dict.
        """
        results.update(self.cache.read(results))
        return self.rest(results)

    def __repr__(self) -> str:
        steps = ', '.join(s['type'] for s in self.cached_steps)
        return (f'{self.__class__.__name__}(cache_dir={self.cache_dir!r}, '
                f'until={self.until!r}, cached=[{steps}], '
                f'rest={self.rest!r})')
