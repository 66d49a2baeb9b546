"""The worker's allocator setting: large blocks stay mmapped, so freeing them frees memory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# In a fresh interpreter: allocate and free a 1 MiB block, then allocate one again, and ask
# glibc (mallinfo2) whether that one was mmapped. With the dynamic threshold the second block
# comes from the heap (0); with the fixed threshold it is mmapped again (1).
PROBE = textwrap.dedent("""
    import ctypes, ctypes.util, sys
    class Info(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks"
                    " keepcost".split()]
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = Info
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = (ctypes.c_void_p,)
    if sys.argv[1] == "fixed":
        from api.http.memory import keep_large_blocks_off_the_heap
        assert keep_large_blocks_off_the_heap()
    libc.free(libc.malloc(1 << 20))
    before = libc.mallinfo2().hblks
    block = libc.malloc(1 << 20)
    print(libc.mallinfo2().hblks - before)
""")


def _mmapped_blocks(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stdout.strip())


def test_fixed_threshold_keeps_large_blocks_mmapped() -> None:
    assert _mmapped_blocks("dynamic") == 0  # glibc's default behaviour, the problem
    assert _mmapped_blocks("fixed") == 1


def test_operator_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.http.memory import keep_large_blocks_off_the_heap

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    assert keep_large_blocks_off_the_heap() is False
