# Copyright (c) mmemo contributors. All rights reserved.
from typing import Dict, Sequence

from mmcv.transforms import BaseTransform

from mmemo.registry import TRANSFORMS

MODALITIES = ('video', 'audio')


@TRANSFORMS.register_module()
class MissingModalities(BaseTransform):
    """Mark modalities of every sample as missing.

    ``missing_modalities`` is the one field that says a sample lacks a
    stream: placed before the loading transforms (:class:`AVInit`,
    :class:`LoadAudio`, :class:`AVDecode`, :class:`FaceCrop`) it makes them
    fill in blank frames or silence instead of decoding; anywhere before
    :class:`PackAVInputs` it reaches the recognizers (``AVRecognizer``,
    ``AVRegressor``), which zero that input after the data preprocessor, as
    modality dropout does. ``tools/analysis_tools/robustness.py`` puts it
    last, so the ``*_removed`` conditions zero exactly the input tensor;
    :class:`~mmemo.apis.AVInferencer` sets the field itself for a file
    without a stream.

    Added or modified keys: ``missing_modalities`` (list, the union with
    what the sample already lacks).

    Args:
        modalities (sequence of str): ``'video'`` and/or ``'audio'``.
    """

    def __init__(self, modalities: Sequence[str]) -> None:
        unknown = sorted(set(modalities) - set(MODALITIES))
        if unknown or not modalities:
            raise ValueError(f'modalities must be some of {MODALITIES}, got '
                             f'{list(modalities)}')
        self.modalities = list(modalities)

    def transform(self, results: Dict) -> Dict:
        """Add the modalities to ``missing_modalities``.

        Args:
            results (dict): The result dict (any stage of the pipeline).

        Returns:
            dict: It, with ``missing_modalities`` (a new list).
        """
        missing = list(results.get('missing_modalities', ()))
        missing += [m for m in self.modalities if m not in missing]
        results['missing_modalities'] = missing
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(modalities={self.modalities})'
