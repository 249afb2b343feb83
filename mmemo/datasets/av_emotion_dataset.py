# Copyright (c) mmemo contributors. All rights reserved.
import csv
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmaction.datasets import BaseActionDataset

from mmemo.registry import DATASETS
from .errors import BadSampleError, SkipsBadSamples
from .media import check_file


def _subject(value: Union[str, int]) -> Union[str, int]:
    """Subject ids: integers where they look like integers."""
    text = str(value).strip()
    return int(text) if text.lstrip('-').isdigit() else text


@DATASETS.register_module()
class AVEmotionDataset(SkipsBadSamples, BaseActionDataset):
    """Audio-visual emotion samples listed in an annotation file.

    The base of the dataset-specific classes (which can also scan a released
    dataset folder themselves). The annotation file is a CSV with a header:

    ========== ============================================================
    column     content
    ========== ============================================================
    video      video file, relative to ``data_prefix['video']``
    audio      (optional) separate audio file, rel. to
               ``data_prefix['audio']``; empty = the video's own track
    label      (optional) class index, or a class name from ``classes``
    subject    (optional) subject / actor id, used by the folds
    <target>   (optional) float columns named in ``target_columns``
    ========== ============================================================

    **Subject-independent splits.** ``folds`` lists the test subjects of
    each fold; ``fold`` (1-based) and ``split`` pick the part:
    ``'test'`` = that fold's subjects, ``'val'`` = ``val_subjects``,
    ``'train'`` = everyone else, ``'all'`` = no selection.
    :attr:`DEFAULT_FOLDS` is the dataset's standard protocol (the
    ``folds`` default; None here: an annotation file has none), which
    ``tools/kfold.py`` runs when a config lists fewer than two folds.

    **Bad input.** Missing files, git-lfs pointers and unknown labels are
    found while the dataset is built; unreadable media (no audio track,
    truncated file, no decodable frame, audio shorter than the video) while
    a sample is loaded. With ``on_bad_sample='error'`` (default) each stops
    the run with a :class:`BadSampleError` naming the file and the problem.
    With ``'skip'`` they are left out at build time and, during training,
    replaced by another random sample at load time; every skip is counted
    (``self.skipped``) and logged. A test-mode dataset never skips (it would
    change the evaluated set): it raises naming the sample and the fix.
    ``tools/data/check_dataset.py CONFIG`` runs every sample once and
    writes an exclusion list; pass it as ``exclude_file`` to leave those
    samples out on purpose, in every mode (see :class:`SkipsBadSamples`).

    Args:
        ann_file (str): The annotation CSV (relative to ``data_root``).
        pipeline (list): Processing pipeline.
        data_root (str): Root of the data. Defaults to ``''``.
        data_prefix (dict): ``video`` and ``audio`` folders, relative to
            ``data_root``. Defaults to ``dict(video='', audio='')``.
        classes (sequence of str, optional): Class names in label order;
            overrides the class's ``METAINFO``.
        folds (sequence of sequences, optional): Test subjects per fold.
        fold (int, optional): 1-based fold index for ``split``.
        split (str): ``'all'``, ``'train'``, ``'val'`` or ``'test'``.
            Defaults to ``'all'``.
        val_subjects (sequence or int, optional): Subjects held out of
            ``'train'`` for model selection; an int ``n`` takes the ``n``
            highest subject ids outside the test fold, so the choice follows
            ``fold``.
        subjects (sequence, optional): Keep only these subjects (applied
            after ``split``).
        target_columns (sequence of str): Float columns gathered into
            ``targets``. Defaults to ``()``.
        check_files (bool): Check at build time that every file exists and
            is not a git-lfs pointer. Defaults to True.
        on_bad_sample (str): ``'error'`` or ``'skip'``.
            Defaults to ``'error'``.
        exclude_file (str, optional): Samples to leave out, one per line
            (as ``tools/data/check_dataset.py`` writes them).
        test_mode (bool): As in mmengine's ``BaseDataset``.
        **kwargs: Other arguments of ``BaseActionDataset``.
    """

    METAINFO: dict = dict()
    #: Test subjects per fold of the standard subject-independent protocol
    #: (the ``folds`` default), None where there is none. Every dataset
    #: class with subject folds (``folds``, ``fold``, ``split``) has it:
    #: ``tools/kfold.py`` reads it.
    DEFAULT_FOLDS: Optional[Tuple[Tuple, ...]] = None

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 classes: Optional[Sequence[str]] = None,
                 folds: Optional[Sequence[Sequence]] = DEFAULT_FOLDS,
                 fold: Optional[int] = None,
                 split: str = 'all',
                 val_subjects: Optional[Union[Sequence, int]] = None,
                 subjects: Optional[Sequence] = None,
                 target_columns: Sequence[str] = (),
                 check_files: bool = True,
                 on_bad_sample: str = 'error',
                 exclude_file: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        assert split in ('all', 'train', 'val', 'test'), split
        if split in ('train', 'test'):
            assert folds and fold and 1 <= fold <= len(folds), \
                f'split={split!r} needs `folds` and a 1-based `fold`'
        self.folds = [[_subject(s) for s in f] for f in folds or []]
        self.fold = fold
        self.split = split
        self.num_val_subjects = val_subjects if isinstance(val_subjects,
                                                           int) else None
        self.val_subjects = [] if self.num_val_subjects is not None else [
            _subject(s) for s in val_subjects or []
        ]
        self.subjects = None if subjects is None else [
            _subject(s) for s in subjects
        ]
        self.target_columns = tuple(target_columns)
        self.check_files = check_files
        self._init_bad_samples(on_bad_sample, exclude_file)
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if classes is not None:
            metainfo['classes'] = tuple(classes)
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_root=data_root,
            data_prefix=data_prefix or dict(video='', audio=''),
            test_mode=test_mode,
            metainfo=metainfo,
            modality='AV',
            **kwargs)

    # ------------------------------------------------------------ building
    @property
    def classes(self) -> tuple:
        return tuple(self.metainfo.get('classes', ()))

    def label_index(self, value: str, path: str) -> int:
        """Class index of a label cell (an index or a class name)."""
        value = value.strip()
        if value.lstrip('-').isdigit():
            index = int(value)
            if self.classes and not 0 <= index < len(self.classes):
                raise BadSampleError(
                    path, f'label {index} is outside the '
                    f'{len(self.classes)} classes')
            return index
        if value in self.classes:
            return self.classes.index(value)
        raise BadSampleError(path, f'unknown label code {value!r}')

    def scan(self) -> List[Union[dict, BadSampleError]]:
        """Read the annotation file.

        Returns:
            list: One info dict (``filename``, ``audio_path``, ``label``,
            ``subject``, ``targets``) or one :class:`BadSampleError` per
            line.
        """
        video_dir = self.data_prefix.get('video', '')
        audio_dir = self.data_prefix.get('audio', video_dir)
        entries = []
        with open(self.ann_file, newline='') as f:
            reader = csv.DictReader(f)
            if 'video' not in (reader.fieldnames or []):
                raise ValueError(f'{self.ann_file}: the header must name a '
                                 '"video" column (got '
                                 f'{reader.fieldnames})')
            for row in reader:
                path = osp.join(video_dir, row['video'])
                try:
                    info = dict(filename=path)
                    if row.get('audio'):
                        info['audio_path'] = osp.join(audio_dir, row['audio'])
                    if row.get('label', '') != '':
                        info['label'] = self.label_index(row['label'], path)
                    if row.get('subject', '') != '':
                        info['subject'] = _subject(row['subject'])
                    if self.target_columns:
                        info['targets'] = [
                            float(row[c]) for c in self.target_columns
                        ]
                    entries.append(info)
                except BadSampleError as e:
                    entries.append(e)
        return entries

    def _subject_filter(self, entries: Sequence) -> Callable[[dict], bool]:
        """Whether a sample belongs to the configured split and subjects.

        An int ``val_subjects`` is resolved here, against the subjects of
        ``entries`` outside the test fold.
        """
        test = set(self.folds[self.fold - 1]) if self.fold else set()
        if self.num_val_subjects is not None:
            candidates = sorted({
                e['subject']
                for e in entries if isinstance(e, dict) and 'subject' in e
            } - test)
            self.val_subjects = candidates[-self.num_val_subjects:] \
                if self.num_val_subjects else []
        val = set(self.val_subjects)
        in_split = {
            'all': lambda s: True,
            'test': lambda s: s in test,
            'val': lambda s: s in val,
            'train': lambda s: s not in test and s not in val,
        }[self.split]
        wanted = None if self.subjects is None else set(self.subjects)
        needs_subject = self.split != 'all' or wanted is not None

        def keep(info: dict) -> bool:
            if 'subject' not in info:
                if needs_subject:
                    raise ValueError(
                        f'{info["filename"]}: no subject id, which '
                        f'split={self.split!r} / subjects need')
                return True
            subject = info['subject']
            return in_split(subject) and (wanted is None or subject in wanted)

        return keep

    def load_data_list(self) -> List[dict]:
        """Scan, select the split's subjects and check the files.

        Returns:
            list[dict]: The usable samples.
        """
        entries = self._drop_listed(self.scan())
        keep = self._subject_filter(entries)
        data_list, bad = [], []
        for entry in entries:
            if isinstance(entry, BadSampleError):
                bad.append(entry)
            elif keep(entry):
                data_list.append(entry)
        if self.check_files:
            kept = []
            for info in data_list:
                try:
                    for key in ('filename', 'audio_path'):
                        if info.get(key):
                            check_file(info[key])
                    kept.append(info)
                except BadSampleError as e:
                    bad.append(e)
            data_list = kept
        self._handle_bad(bad, when='while building the dataset')
        for i, info in enumerate(data_list):
            info['sample_idx'] = i
        return data_list
