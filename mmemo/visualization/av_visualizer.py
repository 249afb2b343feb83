# Copyright (c) mmemo contributors. All rights reserved.
import importlib.util
import re
from typing import Optional

import mmcv
import numpy as np
from mmaction.structures import ActionDataSample
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmemo.registry import VISUALIZERS


def _type_name(text: str) -> str:
    """``'TensorboardVisBackend'`` or ``'dict(type="TensorboardVisBackend")'``
    (what ``--cfg-options`` makes of ``[dict(type="..."),...]``) -> the
    type name."""
    match = re.fullmatch(
        r"""\s*dict\(\s*type\s*=\s*(['"]?)([\w.]+)\1\s*\)\s*""", text)
    return match.group(2) if match else text.strip()


def _vis_backend_cfgs(vis_backends):
    """Turn type names into ``dict(type=name)``; check TensorBoard is
    installed when a ``TensorboardVisBackend`` is asked for."""
    if isinstance(vis_backends, (str, dict)):
        vis_backends = [vis_backends]
    cfgs = [
        dict(type=_type_name(b)) if isinstance(b, str) else b
        for b in vis_backends  # dicts and BaseVisBackend instances
    ]
    for cfg in cfgs:
        kind = cfg.get('type') if isinstance(cfg, dict) else type(cfg)
        kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
        if kind.split('.')[-1] == 'TensorboardVisBackend' and \
                importlib.util.find_spec('tensorboard') is None:
            raise ImportError(
                'TensorboardVisBackend needs the `tensorboard` package: '
                'run `pip install tensorboard` (or drop the backend from '
                '`visualizer.vis_backends`)')
    return cfgs


@VISUALIZERS.register_module()
class AVVisualizer(Visualizer):
    """Draw a strip of video frames with the ground-truth and predicted class.

    mmaction2 1.2.0's ``ActionVisualizer`` looks for ``gt_labels`` and
    ``pred_labels``, which its own ``ActionDataSample`` no longer has, so it
    draws no labels; this one reads ``gt_label``, ``pred_label`` and
    ``pred_score``.

    A vis backend may be given by its type name alone (``vis_backends=
    ['LocalVisBackend', 'TensorboardVisBackend']``), which is what
    ``--cfg-options 'visualizer.vis_backends=[LocalVisBackend,
    TensorboardVisBackend]'`` gives: MMEngine's ``DictAction`` parses no
    dicts, ``[dict(type="X"),...]`` becomes a list of strings, which is
    accepted too when each names only the type. A ``TensorboardVisBackend``
    without the ``tensorboard`` package fails here, with the command that
    installs it.

    Args:
        name (str): Name of the instance. Defaults to ``'visualizer'``.
        num_frames (int): Frames shown side by side. Defaults to 4.
        min_height (int): Smaller frames are enlarged (nearest neighbour)
            to at least this height so the labels fit. Defaults to 112.
        **kwargs: Other arguments of :class:`mmengine.visualization.
            Visualizer` (``vis_backends``, ``save_dir``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 num_frames: int = 4,
                 min_height: int = 112,
                 **kwargs) -> None:
        if kwargs.get('vis_backends') is not None:
            kwargs['vis_backends'] = _vis_backend_cfgs(kwargs['vis_backends'])
        super().__init__(name=name, **kwargs)
        self.num_frames = num_frames
        self.min_height = min_height

    def _label_text(self, data_sample: ActionDataSample) -> str:
        classes = (self.dataset_meta or {}).get('classes')

        def name(index: int) -> str:
            return f'{index} ({classes[index]})' if classes else str(index)

        lines = []
        if 'gt_label' in data_sample:
            lines.append(f'gt: {name(int(data_sample.gt_label))}')
        if 'pred_label' in data_sample:
            pred = int(data_sample.pred_label)
            line = f'pred: {name(pred)}'
            score = data_sample.get('pred_score')
            if score is not None and not isinstance(score, dict):
                line += f', {float(score[pred]):.2f}'
            lines.append(line)
        return '\n'.join(lines)

    @master_only
    def add_datasample(self,
                       name: str,
                       video: np.ndarray,
                       data_sample: Optional[ActionDataSample] = None,
                       show: bool = False,
                       wait_time: float = 0,
                       out_path: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw, then show, save or log one sample.

        Args:
            name (str): Sample name (window title / backend key).
            video (np.ndarray): ``[T, H, W, 3]`` RGB frames, uint8.
            data_sample (ActionDataSample, optional): Labels to write.
            show (bool): Show the drawing in a window. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            out_path (str, optional): Save the PNG here instead of sending
                it to the vis backends.
            step (int): Global step for the backends. Defaults to 0.

        Returns:
            np.ndarray: The drawn RGB image, the frames side by side.
        """
        idx = np.linspace(0, len(video) - 1, min(self.num_frames, len(video)))
        strip = np.concatenate([video[int(round(i))] for i in idx], axis=1)
        scale = -(-self.min_height // strip.shape[0])  # ceil division
        if scale > 1:
            strip = strip.repeat(scale, axis=0).repeat(scale, axis=1)
        self.set_image(strip)  # [H, W * k, 3]
        if data_sample is not None:
            height = strip.shape[0]
            self.draw_texts(
                self._label_text(data_sample),
                np.array([2, 2]),
                font_sizes=max(8, height // 12),
                colors='white',
                bboxes=dict(facecolor='black', alpha=0.6, pad=1))
        drawn = self.get_image()
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_path is not None:
            mmcv.imwrite(drawn[..., ::-1], out_path)
        else:
            self.add_image(name, drawn, step)
        return drawn
