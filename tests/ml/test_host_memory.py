"""Freed host memory kept while training (cnnstudio.ml.training.host_memory): page faults tell whether freed
blocks were reused or went back to the kernel and had to be faulted in again.

The measurements run in a fresh interpreter: what glibc does with a block depends on what the heap already
holds, and the test process has trained networks before.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from cnnstudio.ml.training import host_memory
from cnnstudio.ml.training.host_memory import kept_freed_memory

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="the setting is glibc's")

# A training step in small: three 24 MiB blocks alive together, written, then freed. With glibc's defaults the
# heap's top (72 MiB free, over twice the largest block) is trimmed after every step, so each step faults its
# 18,432 pages in again; so it is after the last run, whose trim threshold is glibc's furthest, 64 MiB. The
# blocks come straight from malloc (ctypes): Python's own objects live in pymalloc's arenas, off the heap.
PROBE = """
import ctypes, json, resource
from cnnstudio.ml.training.host_memory import kept_freed_memory

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
SIZE = 24 << 20
STEPS = 10

def faults():
    def step():
        blocks = [libc.malloc(SIZE) for _ in range(3)]
        for block in blocks:
            ctypes.memset(block, 1, SIZE)
        for block in blocks:
            libc.free(block)
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(STEPS):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

out = {"default": faults()}
outer = kept_freed_memory()
out["on"] = outer.__enter__()
with kept_freed_memory() as inner:  # a second run overlapping the first
    out["inner_on"] = inner
out["kept"] = faults()  # the first run still trains
outer.__exit__(None, None, None)
out["after"] = faults()
print(json.dumps(out))
"""


@glibc
def test_freed_blocks_are_reused_while_runs_train_and_given_back_after():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    pages = 10 * 3 * 24 * 256  # 10 steps of three 24 MiB blocks, in 4 KiB pages
    assert got["default"] > pages // 2  # the cost the setting removes
    assert got["on"] and got["inner_on"]
    assert got["kept"] < pages // 20
    assert got["after"] > pages // 2  # the last run out brought the trim threshold down: memory goes back again


@pytest.mark.parametrize("name, value", [(host_memory.ENV, "0"), ("MALLOC_TRIM_THRESHOLD_", "1000000"),
                                         ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")])
def test_the_environment_turns_it_off(monkeypatch, name, value):
    """CNNSTUDIO_KEEP_FREED_MEMORY=0, or the user's own malloc tuning, which is left as it is."""
    monkeypatch.setenv(name, value)
    with kept_freed_memory() as on:
        assert not on
    assert host_memory._runs == 0
