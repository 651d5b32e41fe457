"""Give freed memory back to the OS (glibc), so a big log's transient parse buffers do not
stay in the process after loading. No-ops where glibc is not the allocator."""

from __future__ import annotations

import ctypes
import sys

_M_MMAP_THRESHOLD = -3


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    # glibc's soname first: find_library runs `ldconfig -p` in a child process (a few ms at start).
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        pass
    from ctypes.util import find_library

    name = find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def tune_allocator() -> None:
    """Serve blocks of 1 MiB and more with mmap, returned to the OS as soon as they are freed.

    glibc raises this threshold on its own after large frees, after which multi-megabyte
    parse buffers come from the heap and fragment it (a 60 MB log then held ~100 MB).
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def settle_heap() -> None:
    """Take what start-up made (modules, widgets, the first 20,000 records) out of the cyclic
    garbage collector's reach: a full collection walks every tracked object, ~100 ms with a
    big container list, and Python starts one on its own in the middle of a burst of events.
    What is frozen is still freed by reference counting when dropped; the records hold no cycles."""
    import gc

    gc.freeze()
