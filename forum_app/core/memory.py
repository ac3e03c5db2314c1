"""A web worker's memory: large transient buffers go back to the system when freed.

glibc's malloc serves a request above its mmap threshold (128 KB at first) with its own mapping,
returned to the system on free; but each time such a buffer is freed it raises the threshold past
it (up to 32 MB), so after a few big pages (a 400 KB review page, its response body, an export)
those buffers come from the heap instead. Freed there, between small objects that live on, they
stay in the worker's resident memory. Measured on the benchmark's pages at programme scale: a
worker ended at 127 MB, or 115 MB with the thresholds fixed here. Fixing them (mallopt turns off
the dynamic adjustment) costs a mapping per large buffer, a few microseconds.
"""
from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
LARGE = 256 * 1024  # buffers from this size get their own mapping; free heap above it is trimmed


def return_large_buffers() -> bool:
    """Fix glibc's mmap and trim thresholds for this process; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, TypeError, AttributeError):  # musl, macOS, Windows: other allocators, nothing to set
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE)) and bool(mallopt(M_TRIM_THRESHOLD, LARGE))
