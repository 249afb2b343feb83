# Copyright (c) mmemo contributors. All rights reserved.
import logging
from typing import List

from mmengine.logging import print_log


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


class SkipsBadSamples:
    """The ``on_bad_sample`` behaviour shared by mmemo's dataset bases.

    ``'error'``: the first bad sample stops the run with its
    :class:`BadSampleError`; ``'skip'``: bad samples are counted in
    ``self.skipped`` (by problem) and logged, and a sample that fails while
    loading is replaced by another (mmengine's ``BaseDataset`` draws one when
    ``prepare_data`` returns None) — never in test mode, where it would
    change the evaluated set. The dataset sets ``on_bad_sample`` and
    ``skipped`` (a ``Counter``).
    """

    def _handle_bad(self, bad: List[BadSampleError], when: str) -> None:
        if not bad:
            return
        if self.on_bad_sample == 'error':
            more = f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''
            raise BadSampleError(bad[0].path, bad[0].problem + more)
        for error in bad:
            self.skipped[error.problem] += 1
        shown = '; '.join(str(e) for e in bad[:5])
        print_log(
            f'{type(self).__name__}: skipped {len(bad)} bad sample(s) {when}'
            f' (on_bad_sample="skip"): {shown}'
            f'{" ..." if len(bad) > 5 else ""}',
            logger='current',
            level=logging.WARNING)

    def prepare_data(self, idx: int):
        """Run the pipeline; count and skip a bad sample when allowed."""
        try:
            return super().prepare_data(idx)
        except BadSampleError as error:
            if self.on_bad_sample == 'error' or self.test_mode:
                raise
            self._handle_bad([error], when='while loading')
            return None  # mmengine's BaseDataset then draws another sample
