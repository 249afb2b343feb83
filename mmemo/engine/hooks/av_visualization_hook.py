# Copyright (c) mmemo contributors. All rights reserved.
import math
import os.path as osp
from typing import Sequence

import numpy as np
import torch
from mmaction.engine.hooks import VisualizationHook
from mmaction.structures import ActionDataSample
from mmengine.runner import BaseLoop, EpochBasedTrainLoop

from mmemo.registry import HOOKS


@HOOKS.register_module()
class AVVisualizationHook(VisualizationHook):
    """Visualise validation/test samples of audio-visual models.

    mmaction's hook expects ``data_batch['inputs']`` to be a list of video
    tensors; audio-visual batches carry a dict of modalities. This hook takes
    the video of each sample from ``inputs[video_key]`` (its first clip) and
    hands ``[T, H, W, 3]`` uint8 frames to the visualizer (``AVVisualizer``).
    ``tools/test.py --show-dir DIR`` enables it.

    Enabled or not, before each validation and test epoch it records the
    step of that evaluation in the message hub (``vis_step``): the epoch
    (epoch-based training), the iteration (iteration-based) or 0 (a test
    run). ``EmotionClsMetric`` logs its confusion-matrix image at this step,
    the one of the validation scalars; the hub's ``epoch`` still holds the
    index of the epoch just trained, one less.

    Args:
        enable (bool): Whether to draw. Defaults to False.
        interval (int): Draw every ``interval``-th sample. Defaults to 5000.
        show (bool): Show in a window. Defaults to False.
        out_dir (str, optional): Save PNGs here instead of the backends.
        video_key (str): Key of the video in the input dict. Defaults to
            ``'video'``.
        **kwargs: Passed to the visualizer's ``add_datasample``.
    """

    def __init__(self,
                 enable: bool = False,
                 interval: int = 5000,
                 show: bool = False,
                 out_dir: str = None,
                 video_key: str = 'video',
                 **kwargs) -> None:
        super().__init__(
            enable=enable,
            interval=interval,
            show=show,
            out_dir=out_dir,
            **kwargs)
        self.video_key = video_key

    @staticmethod
    def _eval_step(runner) -> int:
        # `runner.epoch` would build the train loop of a test-only runner
        loop = getattr(runner, '_train_loop', None)
        if isinstance(loop, EpochBasedTrainLoop):
            return loop.epoch
        if isinstance(loop, BaseLoop):
            return loop.iter
        return 0

    def before_val_epoch(self, runner) -> None:
        runner.message_hub.update_info('vis_step', self._eval_step(runner))

    def before_test_epoch(self, runner) -> None:
        runner.message_hub.update_info('vis_step', 0)

    @staticmethod
    def _to_frames(video: torch.Tensor) -> np.ndarray:
        if video.ndim == 5:  # [clips, C, T, H, W]: the first clip
            video = video[0]
        video = video.permute(1, 2, 3, 0)  # [T, H, W, C]
        if video.shape[-1] == 1:
            video = video.expand(-1, -1, -1, 3)
        return video.clamp(0, 255).to(torch.uint8).cpu().numpy()

    def _draw_samples(self,
                      batch_idx: int,
                      data_batch: dict,
                      data_samples: Sequence[ActionDataSample],
                      step: int = 0) -> None:
        if self.enable is False:
            return
        inputs = data_batch['inputs']
        videos = inputs[self.video_key] if isinstance(inputs, dict) else inputs
        batch_size = len(data_samples)
        start_idx = batch_size * batch_idx
        end_idx = start_idx + batch_size
        first_sample_id = math.ceil(start_idx / self.interval) * self.interval
        for sample_id in range(first_sample_id, end_idx, self.interval):
            data_sample = data_samples[sample_id - start_idx]
            filename = data_sample.get('filename')
            sample_name = osp.basename(filename) if filename else str(
                sample_id)
            out_path = None
            if self.out_dir is not None:
                out_path = osp.join(self.out_dir, f'{sample_name}_{step}.png')
            self._visualizer.add_datasample(
                sample_name,
                video=self._to_frames(videos[sample_id - start_idx]),
                data_sample=data_sample,
                show=self.show,
                wait_time=self.draw_args.get('wait_time', 0),
                out_path=out_path,
                step=step)
