# Copyright (c) mmemo contributors. All rights reserved.
"""Write checkpoints the way plain MMEngine 0.10.7 does, without mmemo.

    python tests/data/checkpoints/make_checkpoints.py OUT_DIR

Trains, with a plain ``mmengine.runner.Runner`` (mmemo is never imported,
so none of its patches is active), a model whose parameters have the names
and shapes of ``configs/toy_av.py``'s ``TinyAVClassifier``, for 2 epochs
(SGD with momentum, MultiStepLR, as the toy config), and writes

- ``mmengine_<numpy tag>.pth``: the runner's own ``epoch_2.pth`` (state
  dict, optimizer and scheduler state, and the message hub, whose
  ``HistoryBuffer`` objects pickle ``getattr(HistoryBuffer, 'min')``);
- ``modelzoo_<numpy tag>.pth``: the OpenMMLab model-zoo layout, the state
  dict and a ``meta`` with the config text, class names as a NumPy string
  array and NumPy scalars.

The NumPy tag (``numpy1`` / ``numpy2``) is the major version NumPy had when
pickling: NumPy 1 pickles arrays under ``numpy.core``, NumPy 2 under
``numpy._core``. See README.md here for how each shipped file was made.
"""
import os
import os.path as osp
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

assert 'mmemo' not in sys.modules


class TinyAV(BaseModel):
    """``TinyAVClassifier``'s parameters (names and shapes)."""

    def __init__(self):
        super().__init__()
        self.video_proj = nn.Linear(3, 16)
        self.audio_proj = nn.Linear(16, 16)
        self.fc_cls = nn.Linear(32, 4)

    def forward(self, video, audio, label, mode='loss'):
        video = self.video_proj(video.mean(dim=(2, 3, 4)))  # [N, 16]
        audio = self.audio_proj(audio.mean(dim=1))  # [N, 16]
        score = self.fc_cls(torch.cat([video, audio], dim=1))  # [N, 4]
        if mode == 'loss':
            return dict(loss=F.cross_entropy(score, label))
        return score


class Random(Dataset):

    def __len__(self):
        return 32

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(index)
        return dict(
            video=torch.randn(3, 4, 16, 16, generator=g),
            audio=torch.randn(32, 16, generator=g),
            label=index % 4)


def main(out_dir: str) -> None:
    tag = f'numpy{np.__version__.split(".")[0]}'
    work_dir = tempfile.mkdtemp()
    try:
        runner = Runner(
            model=TinyAV(),
            work_dir=work_dir,
            train_dataloader=dict(
                dataset=Random(),
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'),
                batch_size=8,
                num_workers=0),
            optim_wrapper=dict(
                optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
            param_scheduler=[
                dict(type='MultiStepLR', by_epoch=True, milestones=[3],
                     gamma=0.1)
            ],
            train_cfg=dict(by_epoch=True, max_epochs=2),
            default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
            randomness=dict(seed=0))
        runner.train()
        os.makedirs(out_dir, exist_ok=True)
        shutil.copy(
            osp.join(work_dir, 'epoch_2.pth'),
            osp.join(out_dir, f'mmengine_{tag}.pth'))
        zoo = dict(
            state_dict=runner.model.state_dict(),
            meta=dict(
                config='model = dict(type="TinyAVClassifier")\n',
                classes=np.array(['a', 'b', 'c', 'd']),
                best_score=np.float64(0.25),
                epoch=np.int64(2),
                mmengine_version='0.10.7'))
        torch.save(zoo, osp.join(out_dir, f'modelzoo_{tag}.pth'))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1])
