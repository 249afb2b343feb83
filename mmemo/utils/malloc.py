# Copyright (c) mmemo contributors. All rights reserved.
"""Keep freed memory in the process (glibc's ``mallopt``).

glibc serves every allocation above its mmap threshold (at most 32 MiB)
with a fresh ``mmap`` and returns it with ``munmap`` when it is freed. A
CPU training step of a video model allocates and frees activations of
hundreds of MiB, so every step the kernel maps and zero-fills them again,
page by page: with ``configs/avtca_ravdess.py`` most of a CPU step was
system time (docs/en/user_guides/benchmark.md). With mmap off and heap
trimming off, freed blocks stay in the heap and the next step reuses them.
"""
import ctypes
import ctypes.util
import platform
from typing import Optional

# mallopt parameters, <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4


def _libc() -> Optional[ctypes.CDLL]:
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return None
    libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
    return libc if hasattr(libc, 'mallopt') else None


def retain_freed_memory() -> bool:
    """Serve large allocations from the heap and never give freed heap
    memory back to the system, in this process and those it forks later
    (dataloader workers).

    ``mallopt(M_MMAP_MAX, 0)`` turns mmap off for allocations and
    ``mallopt(M_TRIM_THRESHOLD, -1)`` turns trimming off (both documented
    in ``man mallopt``). The cost: the process keeps the heap of its
    largest step until it exits (the peak RSS is the same; the memory is
    not returned between steps).

    Returns:
        bool: True when glibc took both settings; False elsewhere (macOS,
        musl), where nothing changes.
    """
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, -1))
