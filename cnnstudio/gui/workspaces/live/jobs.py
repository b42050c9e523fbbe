"""One-shot background jobs (loading a model, probing cameras) whose results come back on the GUI thread.

Plain threads plus a queue drained by a QTimer: the callbacks always run on the GUI thread, and
:meth:`Jobs.shutdown` joins every thread, so nothing outlives the workspace.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer


class Jobs(QObject):
    def __init__(self, parent: QObject | None = None, poll_ms: int = 30):
        super().__init__(parent)
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._drain)
        self._closed = False

    @property
    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads) or not self._done.empty()

    def submit(self, name: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None]) -> None:
        """Run ``fn()`` on a thread; then ``on_done(result)`` or ``on_error(exc)`` on the GUI thread."""
        if self._closed:
            return

        def work() -> None:
            try:
                result = fn()
            except BaseException as exc:  # reported to on_error on the GUI thread
                self._done.put((on_error, exc))
            else:
                self._done.put((on_done, result))

        thread = threading.Thread(target=work, name=f"cnnstudio-live-{name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        self._timer.start()

    def _drain(self) -> None:
        while not self._done.empty():
            callback, value = self._done.get()
            if not self._closed:
                callback(value)
        if not any(t.is_alive() for t in self._threads) and self._done.empty():
            self._timer.stop()

    def wait(self, timeout: float = 30.0) -> None:
        """Join the running jobs and deliver their results (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)
        self._drain()

    def shutdown(self) -> None:
        self._timer.stop()
        for thread in list(self._threads):
            thread.join(30.0)
        self._threads.clear()
        self._closed = True
