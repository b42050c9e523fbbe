"""Test-wide set-up: offscreen Qt, settings and user data kept away from the real user's, leak checks."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CNNSTUDIO_HEADLESS_TESTS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests: the same examples on every run (CI must not be flaky) and no per-example deadline
# (a busy 2-core machine is slow). Run with HYPOTHESIS_PROFILE=explore to search new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Per-user data goes to a temporary folder, never the user's real one."""
    home = tmp_path_factory.mktemp("cnnstudio-home")
    monkeypatch.setenv("CNNSTUDIO_HOME", str(home))
    yield home


@pytest.fixture(autouse=True)
def _no_leaked_threads(request):
    """Fail a test that leaves a thread running (a worker it forgot to stop)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(("pydevd", "Dummy", "asyncio_"))
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"{request.node.nodeid} leaked threads: {[t.name for t in leaked]}", pytrace=False)
