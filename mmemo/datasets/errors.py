# Copyright (c) mmemo contributors. All rights reserved.
import logging
import os.path as osp
from collections import Counter
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from mmemo.utils.seeding import seed_everything


class BadSampleError(RuntimeError):
    """A sample cannot be used: the message names the file and the problem.

    Datasets raise it while they are built (missing file, git-lfs pointer,
    unknown label code) and transforms while they load a sample (no audio
    track, truncated file, no decodable frame, audio shorter than the video).
    With ``on_bad_sample='skip'`` a dataset counts and logs such samples
    instead of stopping.

    Args:
        path (str): The offending file.
        problem (str): What is wrong with it.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f'{path}: {problem}')
        self.path = path
        self.problem = problem

    def __reduce__(self):
        # keep (path, problem) through DataLoader worker pickling
        return type(self), (self.path, self.problem)


#: How to fix a bad sample of a test set (which is never shrunk silently).
TEST_SET_FIX = (
    'a test-mode dataset keeps every listed sample: fix the file, or list it '
    'in an exclusion file (`tools/data/check_dataset.py CONFIG` writes one) '
    'and pass it as the dataset\'s exclude_file=...')


def read_exclusions(path: str) -> List[str]:
    """The entries of an exclusion file: one sample per line (its file,
    absolute or relative to ``data_root``, or its file name without
    extension); text after ``#`` is a comment."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: exclusion file not found')
    entries = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                entries.append(line)
    return entries


class SkipsBadSamples:
    """The bad-sample behaviour shared by mmemo's dataset bases.

    ``on_bad_sample='error'``: the first bad sample stops the run with its
    :class:`BadSampleError`; ``'skip'``: bad samples are counted in
    ``self.skipped`` (by problem) and logged, and a sample that fails while
    loading is replaced by another (mmengine's ``BaseDataset`` draws one when
    ``prepare_data`` returns None; the replacement's ``media_report`` names
    the bad one, so ``MediaReportHook`` reports it in the epoch log).

    A **test-mode** dataset never skips, at build or load time: the
    evaluated set is fixed up front. A bad sample raises naming the file
    and the fix (:data:`TEST_SET_FIX`).

    ``exclude_file`` (e.g. written by ``tools/data/check_dataset.py``)
    lists samples to leave out on purpose, in every mode; they are counted
    in ``self.skipped['listed in exclude_file']`` and kept, with the other
    samples a dataset leaves out by design (e.g. CREMA-D's known broken
    clips), in ``self.left_out`` as ``(path, reason)``.

    Datasets call :meth:`_init_bad_samples` in ``__init__``,
    :meth:`_drop_listed` on their entries and :meth:`_handle_bad` with the
    bad ones.
    """

    def _init_bad_samples(self, on_bad_sample: str,
                          exclude_file: Optional[str]) -> None:
        assert on_bad_sample in ('error', 'skip'), on_bad_sample
        self.on_bad_sample = on_bad_sample
        self.exclude_file = exclude_file
        self.skipped: Counter = Counter()
        self.left_out: List[Tuple[str, str]] = []
        self.bad_samples: List[BadSampleError] = []
        self._replaced: List[str] = []

    def _drop_listed(self, entries: list) -> list:
        """Leave out the entries (dicts with ``filename`` / ``audio_path``
        / ``frame_dir`` / ``name``, or a :class:`BadSampleError` for its
        ``path``) that
        ``exclude_file`` lists (found as given, else under ``data_root``)."""
        if not getattr(self, 'exclude_file', None):
            return entries
        root = getattr(self, 'data_root', '') or ''
        exclude_file = self.exclude_file
        if not osp.isfile(exclude_file) and osp.isfile(
                osp.join(root, exclude_file)):
            exclude_file = osp.join(root, exclude_file)
        listed = set()
        for entry in read_exclusions(exclude_file):
            listed.add(entry)
            listed.add(osp.normpath(osp.abspath(osp.join(root, entry))))
        kept = []
        for entry in entries:
            if isinstance(entry, BadSampleError):
                paths = [entry.path]
            else:
                paths = [entry.get(k) for k in ('filename', 'audio_path',
                                                'frame_dir')] \
                    if isinstance(entry, dict) else []
            keys = {entry['name']} if isinstance(entry, dict) and \
                entry.get('name') else set()
            if isinstance(entry, dict) and isinstance(
                    entry.get('error'), BadSampleError):
                paths.append(entry['error'].path)
            for path in filter(None, paths):
                keys |= {osp.normpath(osp.abspath(path)),
                         osp.splitext(osp.basename(path))[0]}
            if keys & listed:
                name = next(filter(None, paths))
                self.left_out.append((name, 'listed in exclude_file'))
                self.skipped['listed in exclude_file'] += 1
            else:
                kept.append(entry)
        if len(kept) < len(entries):
            print_log(
                f'{type(self).__name__}: left out {len(entries) - len(kept)} '
                f'sample(s) listed in {self.exclude_file}',
                logger='current',
                level=logging.INFO)
        return kept

    def _handle_bad(self, bad: List[BadSampleError], when: str) -> None:
        if not bad:
            return
        more = f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''
        if getattr(self, 'test_mode', False):
            raise BadSampleError(bad[0].path,
                                 f'{bad[0].problem}{more}; {TEST_SET_FIX}')
        if self.on_bad_sample == 'error':
            raise BadSampleError(bad[0].path, bad[0].problem + more)
        for error in bad:
            self.skipped[error.problem] += 1
        self.bad_samples += bad
        shown = '; '.join(str(e) for e in bad[:5])
        print_log(
            f'{type(self).__name__}: skipped {len(bad)} bad sample(s) {when}'
            f' (on_bad_sample="skip"): {shown}'
            f'{" ..." if len(bad) > 5 else ""}',
            logger='current',
            level=logging.WARNING)

    def __getitem__(self, idx: int):
        """Load a sample; an index from :class:`SeededSampler` first seeds
        ``random``, NumPy and torch with its own seed, so the sample's
        augmentations (and the replacement drawn for a bad one) depend on
        the run's seed and its position only (exact resume)."""
        seed = getattr(idx, 'seed', None)
        if seed is not None:
            seed_everything(seed)
        return super().__getitem__(int(idx))

    def prepare_data(self, idx: int):
        """Run the pipeline; count and skip a bad sample when allowed."""
        try:
            data = super().prepare_data(idx)
        except BadSampleError as error:
            if self.test_mode:
                raise BadSampleError(error.path,
                                     f'{error.problem}; {TEST_SET_FIX}')
            if self.on_bad_sample == 'error':
                raise
            self._handle_bad([error], when='while loading')
            self._replaced.append(str(error))
            return None  # mmengine's BaseDataset then draws another sample
        if self._replaced and isinstance(data, dict):
            sample = data.get('data_samples')
            if hasattr(sample, 'set_metainfo'):
                report = dict(sample.metainfo.get('media_report') or {})
                report['replaced_bad_samples'] = self._replaced
                sample.set_metainfo(dict(media_report=report))
            self._replaced = []
        return data
