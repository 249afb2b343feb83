# Copyright (c) mmemo contributors. All rights reserved.
"""Errors for people in mmemo's command-line tools.

An expected error (bad or missing media, a path that is not a file, an
unusable checkpoint or dataset file) ends a tool with one line,
``error: <file>: <problem>``, on stderr and exit status 1; ``--debug``
shows the traceback instead. Anything else is a bug and keeps its
traceback. Every tool's ``__main__`` runs ``run_cli(main)``.
"""
import argparse
import os
import pickle
import re
import sys
from typing import Callable, Optional, Sequence

#: Exception classes whose message is meant for the user. (Names too, for
#: errors re-raised by a DataLoader worker as a RuntimeError.)
EXPECTED_NAMES = ('BadSampleError', 'FileNotFoundError', 'IsADirectoryError',
                  'NotADirectoryError', 'PermissionError',
                  'UnsafeCheckpointError', 'ChecksumMismatchError',
                  'IncompleteDownloadError', 'TranscriptError',
                  'EmptyTranscriptError', 'InvalidDataError',
                  'UnpicklingError', 'URLError', 'DownloadError',
                  'OfficialCheckpointError')


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug`` (show the traceback of an expected error)."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of an error instead of one line')


def _worker_error(message: str) -> Optional[str]:
    """The original ``Type: message`` of an error that a DataLoader worker
    re-raised as ``RuntimeError('Caught X in DataLoader worker ...')``."""
    if 'Original Traceback' not in message:
        return None
    lines = [line for line in message.strip().splitlines() if line.strip()]
    match = re.match(r'^([\w.]+): (.*)$', lines[-1]) if lines else None
    if match and match.group(1).split('.')[-1] in EXPECTED_NAMES:
        return match.group(2)
    return None


def error_line(error: BaseException) -> Optional[str]:
    """``error: <file>: <problem>`` for an expected error, else None."""
    from mmemo.datasets.media import path_problem
    name = type(error).__name__
    expected = any(
        cls.__name__ in EXPECTED_NAMES for cls in type(error).__mro__)
    if isinstance(error, OSError) and error.filename is not None:
        path = os.fsdecode(error.filename)
        problem = path_problem(path, 'a file') or error.strerror or str(
            error)
        return f'error: {path}: {problem}'
    if expected or isinstance(error, pickle.UnpicklingError):
        text = str(error) or name
        # mmengine's Config.fromfile: 'file "<path>" does not exist', also
        # for a directory or a FIFO
        match = re.fullmatch(r'file "(.+)" does not exist', text)
        if match:
            path = match.group(1)
            problem = path_problem(path, 'a file') or 'cannot be read'
            return f'error: {path}: {problem}'
        return f'error: {text}'
    if isinstance(error, RuntimeError):
        original = _worker_error(str(error))
        if original:
            return f'error: {original}'
    return None


def destroy_process_group() -> bool:
    """Tear down the distributed process group a tool's runner started.

    Left to the interpreter's shutdown, gloo's worker threads can abort the
    process after a run that succeeded ("terminate called without an
    active exception", SIGABRT: pytorch/pytorch#190489), which torchrun then
    reports as a failed rank. Called on success only: after an error in one
    rank, the others may still wait in a collective.

    Returns:
        bool: Whether there was a group to destroy.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
        return True
    return False


def exit_distributed_rank(status: int = 0) -> None:
    """End a distributed rank that succeeded without the C++ teardown.

    Destroying the process group does not free its backend: once a DDP
    model has used it, it stays alive after ``destroy_process_group`` and
    ``gc.collect`` with no Python referrer (held on the C++ side; checked
    with a weakref on torch 2.9), so gloo's threads
    are then torn down by the interpreter's shutdown, where they sometimes
    abort the rank (see :func:`destroy_process_group`; seen in clean-clone
    CI runs of the 2-rank ``dist_train.sh`` test even with the group
    destroyed). So the rank frees what Python can still free
    (``gc.collect``: the runner's reference cycles, whose DataLoader
    iterators shut their workers down), flushes the log handlers and the
    standard streams, and leaves with ``os._exit(status)``: no atexit
    handler and no C++ static destructor runs after that.

    Args:
        status (int): The exit status. Defaults to 0.
    """
    import gc
    import logging
    gc.collect()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken: nothing to keep
            pass
    os._exit(status)


def run_cli(main: Callable, argv: Optional[Sequence[str]] = None):
    """Run a tool's ``main``; an expected error becomes one line on stderr
    and exit status 1 (the traceback with ``--debug``).

    Args:
        main (callable): The tool's entry point (parses its own arguments).
        argv (sequence of str, optional): Passed to ``main`` when given.

    Returns:
        What ``main`` returns. The distributed process group, if ``main``
        started one, is destroyed first (:func:`destroy_process_group`);
        then, when ``argv`` is None (the tool's own ``__main__``: this
        process is the rank), the process ends there instead of returning
        (:func:`exit_distributed_rank`; status ``main``'s result when an
        int, else 0, as ``sys.exit`` would give).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = main() if argv is None else main(argv)
        if destroy_process_group() and argv is None:
            exit_distributed_rank(result if isinstance(result, int)
                                  and not isinstance(result, bool) else 0)
        return result
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: B902  (sorted out below)
        line = None if '--debug' in args else error_line(error)
        if line is None:
            raise
        print(' '.join(line.split()) if '\n' in line else line,
              file=sys.stderr)
        sys.exit(1)
