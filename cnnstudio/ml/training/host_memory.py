"""Freed host memory stays in the process while a run trains, instead of going back to the kernel each step.

Every training step allocates and frees the same large CPU tensors (a batch, the activations, their
gradients). glibc's malloc serves each block over 128 KiB with its own ``mmap`` and returns it with
``munmap`` as soon as it is freed, and trims the heap whenever more than 128 KiB lies free at its top.
So each step faults every page of those tensors in afresh (the kernel zeroes them; in a virtual machine
that reports free pages to its host, the host maps them again too), and in a process with several
threads (DDP's communication threads) each ``munmap`` interrupts the other cores to flush their TLBs.
On a CPU run of tinyvgg the kernel's share of the training thread was a quarter of its time.

:func:`kept_freed_memory` raises glibc's two thresholds while any run trains (the first run in sets
them, the last one out restores glibc's documented defaults of 128 KiB and hands the free memory back with
``malloc_trim``), so a step reuses the pages the previous one freed; ``bench/bench_trainer.py`` measures the
difference. (glibc raises its mmap threshold by itself after the first large block is freed, but only until
a program sets one; after a run the process keeps the fixed default, which returns memory at once.) It is
glibc-only and does nothing elsewhere (macOS and Windows allocators cache freed blocks themselves) or when
``CNNSTUDIO_KEEP_FREED_MEMORY=0`` is set.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import threading
from collections.abc import Iterator

#: "0" turns the setting off (a process whose memory must go back to the system at every step)
ENV = "CNNSTUDIO_KEEP_FREED_MEMORY"

_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_WHILE_TRAINING = 32 << 20  # the largest glibc accepts on 64-bit (HEAP_MAX_SIZE / 2); larger blocks still mmap
_TRIM_WHILE_TRAINING = 1 << 30  # free memory at the heap's top kept up to this much
_DEFAULT = 128 << 10  # glibc's default for both thresholds

_lock = threading.Lock()
_runs = 0  # runs training now (the GUI may train in two workspaces at once)
_on = False  # glibc took the training thresholds


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _set(libc: ctypes.CDLL, mmap_threshold: int, trim_threshold: int) -> bool:
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(libc.mallopt(_M_TRIM_THRESHOLD,
                                                                                          trim_threshold))


@contextlib.contextmanager
def kept_freed_memory() -> Iterator[bool]:
    """While inside, freed blocks up to 32 MiB are reused rather than unmapped (yields whether it is on)."""
    global _runs, _on
    libc = _glibc() if os.environ.get(ENV, "1") != "0" else None
    if libc is None:
        yield False
        return
    with _lock:
        _runs += 1
        if _runs == 1:
            _on = _set(libc, _MMAP_WHILE_TRAINING, _TRIM_WHILE_TRAINING)
    try:
        yield _on
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _on:
                _on = not _set(libc, _DEFAULT, _DEFAULT)
                libc.malloc_trim(0)
