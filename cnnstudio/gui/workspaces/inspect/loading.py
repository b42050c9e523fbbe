"""Opening models and datasets off the GUI thread (torch and datasets take a second or two to load)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class Loader(QObject):
    """Runs one loading function at a time on a superqt worker; ``finished(tag, result)`` or
    ``failed(tag, message)`` arrive on the GUI thread. A newer request supersedes an older one."""

    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._workers: dict[str, Any] = {}
        self._generation: dict[str, int] = {}
        self._running: list[threading.Event] = []
        self._closed = False

    def busy(self) -> bool:
        return bool(self._workers)

    def start(self, tag: str, func: Callable[[], Any]) -> None:
        from superqt.utils import create_worker

        generation = self._generation.get(tag, 0) + 1
        self._generation[tag] = generation
        done = threading.Event()
        self._running = [e for e in self._running if not e.is_set()] + [done]

        def run() -> Any:
            try:
                return func()
            finally:
                done.set()

        worker = create_worker(run, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda result, t=tag, g=generation: self._done(t, g, result, None))
        worker.errored.connect(lambda exc, t=tag, g=generation: self._done(t, g, None, exc))
        self._workers[tag] = worker
        worker.start()

    def _done(self, tag: str, generation: int, result: Any, exc: BaseException | None) -> None:
        if self._closed or self._generation.get(tag) != generation:
            return  # closed, or a newer request for the same thing is on its way
        self._workers.pop(tag, None)
        if exc is None:
            self.finished.emit(tag, result)
        else:
            self.failed.emit(tag, describe_error(exc))

    def close(self, msecs: int = 30000) -> None:
        """Wait for running loads, then ignore whatever they still deliver (the view is going away)."""
        self.wait(msecs)
        self._closed = True

    def wait(self, msecs: int = 30000) -> bool:
        """Block until this loader's running loads end (at shutdown); False if one is still running."""
        import time

        deadline = time.monotonic() + msecs / 1000
        for event in self._running:
            if not event.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True


def describe_error(exc: BaseException) -> str:
    from cnnstudio.core.errors import UserError

    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"A part of CNN Studio this needs is not available: {exc}."
    return f"{type(exc).__name__}: {exc}"
