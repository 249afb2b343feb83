# Copyright (c) mmemo contributors. All rights reserved.
# The structure follows mmaction2's ``ActionRecogInferencer``
# (mmaction/apis/inferencers/actionrecog_inferencer.py, Copyright (c)
# OpenMMLab, Apache-2.0).
import copy
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.utils import import_modules_from_strings

from mmemo.datasets import VASequenceDataset
from mmemo.datasets.media import describe_source
from mmemo.datasets.transforms import AVClipWindow, AVInit, PackAVInputs
from mmemo.registry import DATASETS, INFERENCERS, MODELS
from mmemo.utils.config import get_dataset_cfg
from ..media_warnings import media_warnings
from .results import (classification_result, ordered, valence_arousal_result)

#: What an input may be: a media path, or a dict with ``video`` (a video
#: or an audio file) and optionally ``audio`` (a separate audio file),
#: ``start`` and ``duration`` (the window, seconds).
InputType = Union[str, dict]


@INFERENCERS.register_module(name='audio-visual-emotion')
@INFERENCERS.register_module()
class AVInferencer(BaseInferencer):
    """Emotion recognition (classes or valence/arousal) on media files.

    ``preprocess`` builds each input's samples as the config's test dataset
    would and runs them through that dataset's pipeline, unchanged;
    ``forward`` is ``model.test_step``; ``postprocess`` turns the data
    samples into plain, strict-JSON dicts. An input without an audio track
    or without video (an audio file) carries ``missing_modalities``: the
    loading transforms fill it in (silence, blank frames) and the
    recognizers zero it, as the modality dropout the models train with.
    A valence/arousal model (a :class:`~mmemo.datasets.VASequenceDataset`
    test set) predicts every frame of the window, from the dataset's dense
    windows.

    Args:
        model (str | Config | nn.Module): A config path, a model name of
            the model zoo (``model-index.yml``, e.g. ``'avtca_synth'``), a
            config object, or a model built by :func:`init_model` (with
            ``cfg``).
        weights (str, optional): Checkpoint path or URL; for a model-zoo
            name its published weights when None. Defaults to None.
        device (str, optional): Device. Defaults to ``'cpu'``.
        scope (str): Registry scope. Defaults to ``'mmemo'``.
        cfg_options (dict, optional): Overrides merged into the config.
        show_progress (bool): A progress bar over the inputs.
            Defaults to False.
    """

    preprocess_kwargs: set = {'media_cache'}
    forward_kwargs: set = set()
    visualize_kwargs: set = set()
    postprocess_kwargs: set = set()

    def __init__(self,
                 model: Union[str, Config, nn.Module],
                 weights: Optional[str] = None,
                 device: Optional[str] = 'cpu',
                 scope: str = 'mmemo',
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = False) -> None:
        from mmemo.utils import register_all_modules
        register_all_modules(init_default_scope=False)
        self.scope = scope
        built = model if isinstance(model, nn.Module) else None
        if built is not None:
            if not hasattr(built, 'cfg'):
                raise ValueError('the model has no cfg: build it with '
                                 'init_model or give its config')
            cfg = built.cfg
        elif isinstance(model, Config):
            cfg = copy.deepcopy(model)
        elif isinstance(model, str) and not osp.isfile(model) and \
                not model.endswith('.py'):
            cfg, published = self._load_model_from_metafile(model)
            weights = weights or published
            if weights is None:
                raise ValueError(f'{model!r} has no published weights yet '
                                 '(model-index.yml): pass weights=CHECKPOINT')
        elif isinstance(model, str):
            cfg = Config.fromfile(model)
        else:
            raise TypeError('model must be a config path, a model name, a '
                            f'Config or a model, got {type(model).__name__}')
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if cfg.get('custom_imports'):
            import_modules_from_strings(**cfg.custom_imports)
        self.cfg = cfg
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', scope)):
            self.dataset = self._test_dataset(cfg)
            self.model = built or self._init_model(cfg, weights, device)
        self.pipeline = self.dataset.pipeline
        self.collate_fn = pseudo_collate
        self.visualizer = None
        self.show_progress = show_progress

    # ------------------------------------------------------------ building
    def _load_model_from_metafile(self, model: str) -> tuple:
        """Config and published weights (None before a release) of a
        model-index name."""
        root = self._get_repo_or_mim_dir(self.scope)
        names = []
        for entry in self._get_models_from_metafile(root):
            names.append(entry['Name'])
            if entry['Name'].lower() == model.lower():
                weights = entry.get('Weights')
                weights = weights[0] if isinstance(weights, list) else weights
                return Config.fromfile(osp.join(root,
                                                entry['Config'])), weights
        raise ValueError(f'{model!r} is neither a config file nor a model '
                         f'of the model zoo ({", ".join(sorted(names))})')

    def _test_dataset(self, cfg: Config):
        """The config's test dataset, built without reading its data (its
        pipeline, classes and window settings), checked to read media."""
        dataset_cfg = get_dataset_cfg(cfg)
        name = getattr(cfg, 'filename', None) or 'the config'
        if not dataset_cfg or not dataset_cfg.get('pipeline'):
            raise ValueError(f'{name} has no test pipeline '
                             '(test_dataloader.dataset.pipeline)')
        dataset = DATASETS.build(
            dict(copy.deepcopy(dataset_cfg), lazy_init=True))
        steps = dataset.pipeline.transforms
        if not any(isinstance(t, AVInit) for t in steps):
            kinds = ', '.join(type(t).__name__ for t in steps)
            raise ValueError(
                f'{name}: its test pipeline ({kinds}) has no '
                f'{AVInit.__name__}: the model reads pre-extracted features, '
                'face-image folders or generated tensors, not media files. '
                'Extract the features first (tools/misc/'
                'extract_va_features.py) or use the config of the model that '
                'reads the media (e.g. configs/avtca_synth.py, '
                'avtca_ravdess.py, cfnsr_*.py, concat_synth_va.py).')
        for t in steps:
            other = set(t.targets) - {'gt_va', 'va_mask'} if isinstance(
                t, PackAVInputs) else ()
            if other:
                raise ValueError(
                    f'{name}: the model is trained on the targets '
                    f'{sorted(other)} (e.g. CMU-MOSEI sentiment scores); '
                    'inference supports class labels and valence/arousal')
        return dataset

    def _init_pipeline(self, cfg: Config):
        """The test dataset's own pipeline (see :meth:`_test_dataset`)."""
        return self.dataset.pipeline

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: Optional[str]) -> nn.Module:
        """Build the model (no ``init_weights``: the checkpoint holds the
        encoders) and load the weights; ``dataset_meta`` from the
        checkpoint's meta, else the test dataset's."""
        model = MODELS.build(cfg.model)
        meta = {}
        if weights is not None:
            ckpt = load_checkpoint(model, weights, map_location='cpu')
            meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        dataset_meta = dict(meta.get('dataset_meta') or {})
        classes = dataset_meta.get('classes') or meta.get('classes') \
            or self.dataset.metainfo.get('classes')
        if classes:
            dataset_meta['classes'] = tuple(classes)
        model.cfg = cfg
        model.dataset_meta = dataset_meta
        return model.to(device or 'cpu').eval()

    @property
    def clip_duration(self) -> Optional[float]:
        """Seconds of media one prediction sees (the test pipeline's
        ``AVClipWindow`` length); None: the whole file."""
        for t in self.pipeline.transforms:
            if isinstance(t, AVClipWindow) and t.duration:
                return float(t.duration)
        return None

    # ------------------------------------------------------------ running
    def __call__(self,
                 inputs: Union[InputType, Sequence[InputType]],
                 skip_errors: bool = False,
                 **kwargs) -> dict:
        """Predict each input.

        Args:
            inputs (str | dict | list): A media path, an input dict (see
                :data:`InputType`), a list of them, or a folder (its media
                files, see :func:`~mmemo.apis.inference_folder`).
            skip_errors (bool): Record a failing input as ``{'file': ...,
                'error': message}`` instead of raising. Defaults to False.
            **kwargs: ``media_cache`` (a dict kept across calls on the same
                files: each file is probed and its audio decoded once).

        Returns:
            dict: ``predictions``, one dict per input (see
            :meth:`postprocess`).
        """
        from .. import inference
        if isinstance(inputs, str) and osp.isdir(inputs):
            items = inference.media_files(inputs)
        else:
            items = self._inputs_to_list(inputs)
        predictions = []
        for item in self._progress(items):
            try:
                data, context = self.preprocess(item, **kwargs)
                preds = []
                for chunk in data:
                    preds += self.forward(chunk)
                predictions.append(self.postprocess(preds, context))
            except (OSError, RuntimeError, ValueError) as e:
                if not skip_errors:
                    raise
                predictions.append(dict(file=context_file(item), error=str(e)))
        return dict(predictions=predictions)

    def _progress(self, items: list):
        if not self.show_progress or not items:
            return items
        from mmengine.utils import track_iter_progress
        return track_iter_progress(items)

    def preprocess(self,
                   item: InputType,
                   media_cache: Optional[dict] = None,
                   **kwargs) -> tuple:
        """One input's samples through the test pipeline, in batches.

        Returns:
            tuple: The collated batches and the context
            :meth:`postprocess` needs (the source, the window).
        """
        item = dict(video=item) if not isinstance(item, dict) else item
        source = describe_source(item['video'], item.get('audio'))
        base = dict(
            filename=source['video'] or source['audio'],
            start_index=0,
            modality='AV',
            media_cache={} if media_cache is None else media_cache)
        if source['video'] is None or source['separate_audio']:
            base['audio_path'] = source['audio']
        if source['missing']:
            base['missing_modalities'] = source['missing']
        start, duration = item.get('start'), item.get('duration')
        context = dict(source=source, start=start, duration=duration)
        if isinstance(self.dataset, VASequenceDataset):
            return self._va_batches(base, context)
        if start is not None or duration is not None:
            base['clip_window'] = (start, duration)
        sample = self.pipeline(base)
        if 'clip_window' in base and 'av_window' not in \
                sample['data_samples'].metainfo:
            raise ValueError('the config\'s test pipeline chooses no window '
                             '(no AVClipWindow): start/duration need one')
        return [self.collate_fn([sample])], context

    def _va_batches(self, base: dict, context: dict) -> tuple:
        """The dense windows over the requested frames, a batch a block."""
        init = next(
            t for t in self.pipeline.transforms if isinstance(t, AVInit))
        probe = init(dict(base))
        if probe.get('video_reader') is not None:
            probe['video_reader'].close()
        fps, total = float(probe['avg_fps']), int(probe['total_frames'])
        start, duration = context['start'], context['duration']
        t0 = 0.0 if start is None else float(start)
        t1 = total / fps if duration is None else t0 + float(duration)
        f0 = int(np.ceil(t0 * fps - 1e-6))
        f1 = min(total, int(np.ceil(t1 * fps - 1e-6)))
        if f0 >= f1:
            raise ValueError(f'{base["filename"]}: the window [{t0:.3f}, '
                             f'{t1:.3f}) s holds no frame of the '
                             f'{total / fps:.3f} s media')
        stem = osp.splitext(osp.basename(base['filename']))[0]
        batches = [[
            self.pipeline(
                dict(
                    base,
                    video_id=stem,
                    target_frames=targets,
                    num_frames=total,
                    fps=fps,
                    **self.dataset.unlabelled())) for targets in block
        ] for block in self.dataset.dense_windows(f0, f1)]
        context.update(fps=fps, frames=(f0, f1))
        return [self.collate_fn(b) for b in batches], context

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> list:
        """``model.test_step`` (the data preprocessor, then predict)."""
        return self.model.test_step(inputs)

    def visualize(self, inputs: list, preds: list, **kwargs) -> None:
        """Plots and annotated videos: ``demo/demo_av.py``."""
        return None

    def postprocess(self, preds: list, context: dict) -> dict:
        """One input's result as a plain dict (strict JSON).

        Returns:
            dict: ``task`` (``'classification'`` or ``'valence_arousal'``),
            ``file``, ``modalities`` (the streams used), ``window``
            (``[start_s, end_s]``). Classification: ``classes``, ``scores``
            (probabilities summing to 1), ``label``, ``label_index``,
            ``score_source`` and, when the model scores each modality,
            ``modality_scores``; ``face_boxes`` / ``face_detected`` when
            the pipeline crops faces; ``frame_times`` (s) of the sampled
            frames. Valence/arousal: per-frame ``times`` (s), ``valence``,
            ``arousal``, ``fps``. Both: ``warnings``, sentences about the
            input (see :func:`~mmemo.apis.media_warnings.media_warnings`).
        """
        source = context['source']
        meta = preds[-1].metainfo
        if 'frames' in context:
            result = valence_arousal_result(self.model, preds,
                                            context['frames'], context['fps'])
        else:
            result = classification_result(self.model, preds[0],
                                           source['modalities'],
                                           source['video'] is not None)
        result['warnings'] = media_warnings(
            meta.get('media_report') or {}, result['window'],
            source['modalities'])
        result['file'] = source['video'] or source['audio']
        if source['separate_audio']:
            result['audio_file'] = source['separate_audio']
        result['modalities'] = list(source['modalities'])
        return ordered(result)


def context_file(item: InputType) -> str:
    return item.get('video') if isinstance(item, dict) else item
