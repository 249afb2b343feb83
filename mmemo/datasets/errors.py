# Copyright (c) mmemo contributors. All rights reserved.


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
