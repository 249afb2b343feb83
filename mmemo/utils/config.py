# Copyright (c) mmemo contributors. All rights reserved.
"""Find the dataset config (and its pipeline) of a run config's split."""
from typing import Optional

#: The splits in the order they stand in for one another: a config without
#: a test loader is read through its validation loader, then its training
#: loader.
SPLITS = ('test', 'val', 'train')


def unwrap_dataset_cfg(dataset_cfg: Optional[dict]) -> Optional[dict]:
    """The innermost dataset config of a wrapped one.

    Wrappers such as ``RepeatDataset`` or ``ClassBalancedDataset`` hold the
    real dataset under ``dataset`` and have no ``pipeline`` of their own;
    the real dataset holds the pipeline and the split arguments.

    Args:
        dataset_cfg (dict, optional): A dataset config, possibly a wrapper.

    Returns:
        dict, optional: The innermost dataset config, the very object of
        ``dataset_cfg`` (not a copy: editing it edits the config), or None
        for None.
    """
    while isinstance(dataset_cfg, dict) and isinstance(
            dataset_cfg.get('dataset'),
            dict) and 'pipeline' not in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def get_dataset_cfg(cfg: dict,
                    split: str = 'test',
                    fallback: bool = True) -> Optional[dict]:
    """The innermost dataset config of a split's dataloader.

    Args:
        cfg (dict or Config): A run config with ``<split>_dataloader``
            entries.
        split (str): ``'test'``, ``'val'`` or ``'train'``.
            Defaults to ``'test'``.
        fallback (bool): When the config has no such dataloader (or it has
            no dataset), take the first of the other splits that has one,
            in the order test, val, train. Defaults to True.

    Returns:
        dict, optional: The dataset config (unwrapped by
        :func:`unwrap_dataset_cfg`; the config's own object, not a copy),
        or None when no dataloader looked at has a dataset.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    candidates = (split, ) + tuple(
        s for s in SPLITS if s != split) if fallback else (split, )
    for name in candidates:
        loader = cfg.get(f'{name}_dataloader')
        if loader and loader.get('dataset'):
            return unwrap_dataset_cfg(loader['dataset'])
    return None


def get_pipeline_cfg(cfg: dict,
                     split: str = 'test',
                     fallback: bool = True) -> Optional[list]:
    """The pipeline of a split's dataset config.

    Args:
        cfg (dict or Config): See :func:`get_dataset_cfg`.
        split (str): See :func:`get_dataset_cfg`. Defaults to ``'test'``.
        fallback (bool): See :func:`get_dataset_cfg`. Defaults to True.

    Returns:
        list, optional: The dataset config's ``pipeline`` (its own object,
        not a copy), or None when there is no such dataset or it has no
        pipeline.
    """
    dataset = get_dataset_cfg(cfg, split, fallback)
    return None if dataset is None else dataset.get('pipeline')
