"""Freed host memory stays in the process while a run trains, instead of going back to the kernel each step.

Every training step allocates and frees the same large CPU tensors (a batch, the activations, their
gradients). glibc's malloc starts by serving each block over 128 KiB with its own ``mmap`` and by trimming
the heap whenever more than 128 KiB lies free at its top; it raises both thresholds by itself as large
blocks are freed, but only up to the size of the largest block freed so far (and twice that for the trim),
so a step whose tensors together exceed that still gives memory back at its end. Then each step faults the
pages of those tensors in afresh (the kernel zeroes them; in a virtual machine that reports free pages to its
host, the host maps them again too), and in a process with several threads (DDP's communication threads)
each ``munmap`` interrupts the other cores to flush their TLBs. On a CPU run of TinyVGG the kernel's share
of the training thread was a quarter of its time.

:func:`kept_freed_memory` raises glibc's two thresholds while any run trains, so a step reuses the pages the
previous one freed (``bench/bench_host_memory.py`` measures the difference). The first run in sets them; the
last one out leaves the mmap threshold at 32 MiB (the furthest glibc's own adjustment goes), brings the trim
threshold down to twice that, as glibc would, and hands the free memory back with ``malloc_trim``. glibc
does not adjust a threshold by itself once a program has set one, so the process keeps those end points.

It does nothing on other C libraries (macOS and Windows allocators cache freed blocks themselves), when
``CNNSTUDIO_KEEP_FREED_MEMORY=0`` is set, or when the user tuned glibc's malloc in the environment.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import threading
from collections.abc import Iterator

#: "0" turns the setting off (a process whose memory must go back to the system at every step)
ENV = "CNNSTUDIO_KEEP_FREED_MEMORY"
#: the user's own malloc settings, which are left alone
_USER_TUNING = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP = 32 << 20  # the largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2); larger blocks still mmap
_TRIM_WHILE_TRAINING = 1 << 30  # free memory at the heap's top kept up to this much
_TRIM_AFTER = 2 * _MMAP  # glibc's own rule: trim above twice the mmap threshold

_lock = threading.RLock()  # re-entrant: a generator finalised by the garbage collector may exit inside
_runs = 0  # runs training now (the GUI may train in two workspaces at once)
_on = False  # glibc took the training thresholds


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _wanted() -> bool:
    if os.environ.get(ENV, "1") == "0" or any(os.environ.get(name) for name in _USER_TUNING):
        return False
    return "glibc.malloc." not in os.environ.get("GLIBC_TUNABLES", "")


def _set(libc: ctypes.CDLL, trim_threshold: int) -> bool:
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))


@contextlib.contextmanager
def kept_freed_memory() -> Iterator[bool]:
    """While inside, freed blocks up to 32 MiB are reused rather than unmapped (yields whether it is on)."""
    global _runs, _on
    libc = _glibc() if _wanted() else None
    if libc is None:
        yield False
        return
    with _lock:
        _runs += 1
        if _runs == 1:
            _on = _set(libc, _TRIM_WHILE_TRAINING)
    try:
        yield _on
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:  # also after a half-applied setting
                _set(libc, _TRIM_AFTER)
                libc.malloc_trim(0)
                _on = False
