"""Allocator settings for a long-running API worker.

Why: each write anywhere in the network makes every worker build a new catalog snapshot —
a few MB of arrays of ~100–800 KB at 100k stations — and free the old one. glibc serves
such blocks with ``mmap`` at first, but after the first one is freed it raises its mmap
threshold to that size (the "dynamic threshold") and serves later ones from the heap,
where long-lived small objects (cached GeoJSON fragments, new stations) settle between
them and the freed space can no longer be returned. In a 2-worker soak with 5 writes/s
that grew a worker's RSS by 20–25 % in 150 s; with the threshold fixed at 128 KiB it
stayed within 3 %. Fixing it costs an mmap/munmap pair per large block, microseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

__all__ = ["DEFAULT_MMAP_THRESHOLD", "keep_large_blocks_off_the_heap"]

log = logging.getLogger("stations.api")

#: glibc's own initial threshold; fixing it (instead of letting it grow) is the point.
DEFAULT_MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter number, from glibc's malloc.h


def keep_large_blocks_off_the_heap(threshold: int = DEFAULT_MMAP_THRESHOLD) -> bool:
    """Serve blocks of at least ``threshold`` bytes by mmap, always. True if applied.

    Does nothing (False) off glibc, or when the operator set ``MALLOC_MMAP_THRESHOLD_``
    in the environment (glibc has then applied their value already).
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(_M_MMAP_THRESHOLD, int(threshold)) == 1
    if not done:
        log.warning("mallopt(M_MMAP_THRESHOLD, %d) was refused", threshold)
    return done
