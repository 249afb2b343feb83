# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmaction.structures import ActionDataSample
from mmcv.transforms import BaseTransform, to_tensor
from mmengine.structures import BaseDataElement

from mmemo.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """Pack both modalities and the labels for an audio-visual model.

    ``inputs`` becomes a dict of tensors, one per modality (the layout
    mmaction's ``MultiModalDataPreprocessor`` takes); ``data_samples`` an
    ``ActionDataSample`` with the class label in ``gt_label``. Continuous
    targets (valence/arousal, ...) go to their own float fields: mmaction's
    ``gt_label`` is cast to ``long`` and would truncate them.

    Audio features ``[T, F]`` get mmaction's ``NCTF`` layout
    ``[1, 1, T, F]`` (one clip, one channel); a waveform ``[S]`` becomes
    ``[1, 1, S]``; the features of a window's sub-clips ``[L, T, F]``
    become ``[L, 1, T, F]`` (the sub-clips play the role of clips, as the
    video's ``[L, C, T, H, W]``). Video is packed as it is (e.g.
    ``[clips, C, T, H, W]`` after ``FormatShape('NCTHW')``). Only the
    ``audio`` key gets these layouts: cached sub-clip features
    (``LoadSubClipFeatures``' ``video_feats``/``audio_feats``, ``[L, D]``)
    are packed as they are.

    Boolean targets (a mask such as ``va_mask``) stay ``torch.bool``; other
    targets become float32.

    Key-padding masks of the inputs (which tokens of a stream are padding,
    e.g. ``LoadSequenceFeatures``' ``<stream>_padding_mask``) are neither
    inputs nor targets: ``padding_masks`` packs them into the data sample's
    ``padding_masks`` field, a ``BaseDataElement`` with one bool tensor per
    input (True = padding), which the heads read
    (``BaseVAHead.with_padding_masks``).

    Args:
        inputs (dict): Input name -> results key.
            Defaults to ``dict(video='imgs', audio='audio')``.
        targets (dict): Data-sample field -> results key for continuous
            targets and their masks, e.g. ``dict(gt_va='gt_va',
            va_mask='va_mask')``. Defaults to ``{}``.
        meta_keys (sequence of str): Results keys copied into the
            metainfo when present; ``media_report`` (what the loading
            steps found and repaired) feeds ``MediaReportHook`` and
            ``tools/data/check_dataset.py``; ``missing_modalities`` is
            zeroed by the recognizers; the sampled frames and their faces
            (``frame_inds``, ``avg_fps``, ``total_frames``, ``face_boxes``,
            ``face_detected``) go into inference results.
        one_clip (sequence of str): Inputs (names) given a leading clip
            axis of 1, ``[T, D]`` -> ``[1, T, D]``: per-frame feature
            sequences (e.g. MOSEI's FACET frames) for ``AVRecognizer``,
            whose inputs are ``[B, clips, ...]``. Defaults to ``()``.
        padding_masks (dict): Input name -> results key of its key-padding
            mask (bool ``[N]``, True = a padded token), e.g.
            ``dict(text='text_padding_mask')``; every name must be one of
            ``inputs``. Defaults to ``{}``.
    """

    def __init__(
        self,
        inputs: Optional[Dict[str, str]] = None,
        targets: Optional[Dict[str, str]] = None,
        meta_keys: Sequence[str] = ('filename', 'audio_path', 'subject',
                                    'sample_idx', 'av_window', 'audio_window',
                                    'video_window', 'face_fallback_frames',
                                    'video_id', 'target_frames', 'num_frames',
                                    'frame_dir', 'media_report',
                                    'missing_modalities', 'frame_inds',
                                    'avg_fps', 'total_frames', 'face_boxes',
                                    'face_detected'),
        one_clip: Sequence[str] = (),
        padding_masks: Optional[Dict[str, str]] = None,
    ) -> None:
        self.inputs = dict(video='imgs', audio='audio') \
            if inputs is None else dict(inputs)
        self.targets = dict(targets or {})
        self.meta_keys = tuple(meta_keys)
        self.one_clip = tuple(one_clip)
        self.padding_masks = dict(padding_masks or {})
        unknown = sorted(set(self.padding_masks) - set(self.inputs))
        if unknown:
            raise ValueError(
                f'PackAVInputs: padding_masks for {unknown}, which are not '
                f'inputs (inputs: {sorted(self.inputs)})')

    @staticmethod
    def _audio_layout(audio: torch.Tensor) -> torch.Tensor:
        if audio.ndim == 1:  # waveform [S]
            return audio[None, None]  # [1, 1, S]
        if audio.ndim == 2:  # features [T, F]
            return audio[None, None]  # [1, 1, T, F]
        if audio.ndim == 3:  # features of sub-clips [L, T, F]
            return audio[:, None]  # [L, 1, T, F]
        return audio

    def transform(self, results: Dict) -> Dict:
        """Build ``inputs`` and ``data_samples``.

        Args:
            results (dict): The result dict.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        inputs = {}
        for name, key in self.inputs.items():
            if key not in results:
                raise KeyError(f'PackAVInputs: the pipeline produced no '
                               f'"{key}" for input "{name}"')
            value = results[key]
            if isinstance(value, list):
                value = np.stack(value)
            tensor = to_tensor(np.ascontiguousarray(value))
            # the layout is for the decoded audio (key 'audio'); features
            # read from a cache ('audio_feats', [L, D]) are packed as they are
            if name in self.one_clip:
                inputs[name] = tensor[None]  # [1, T, D]
            elif key == 'audio':
                inputs[name] = self._audio_layout(tensor)
            else:
                inputs[name] = tensor
        data_sample = ActionDataSample()
        if 'label' in results:
            data_sample.set_gt_label(results['label'])
        for field, key in self.targets.items():
            value = np.asarray(results[key])
            # masks stay boolean; values float (not gt_label's long)
            dtype = torch.bool if value.dtype == np.bool_ else torch.float32
            data_sample.set_field(torch.as_tensor(value, dtype=dtype), field)
        if self.padding_masks:
            masks = BaseDataElement()
            for name, key in self.padding_masks.items():
                if key not in results:
                    raise KeyError(f'PackAVInputs: the pipeline produced no '
                                   f'"{key}" for the padding mask of "{name}"')
                mask = np.asarray(results[key])  # [N]
                masks.set_field(torch.as_tensor(mask, dtype=torch.bool), name)
            data_sample.set_field(masks, 'padding_masks')
        data_sample.set_metainfo(
            {k: results[k]
             for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(inputs={self.inputs}, '
                f'targets={self.targets}, meta_keys={self.meta_keys}, '
                f'one_clip={self.one_clip}, '
                f'padding_masks={self.padding_masks})')
