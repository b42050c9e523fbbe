"""Opening models and datasets off the GUI thread (torch and datasets take a second or two to load)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cnnstudio.gui.workers import WorkerGroup


class Loader(QObject):
    """Loads by tag ("model", "data", "camera") on a :class:`WorkerGroup`; ``finished(tag, result)`` or
    ``failed(tag, message)`` arrive on the GUI thread. A newer request of a tag supersedes an older one."""

    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.workers = WorkerGroup(self)

    def busy(self) -> bool:
        return bool(self.workers)

    def start(self, tag: str, func: Callable[[], Any]) -> None:
        self.workers.run(func, tag=tag, on_done=lambda result: self.finished.emit(tag, result),
                         on_error=lambda message: self.failed.emit(tag, message))

    def close(self, msecs: int = 30000) -> None:
        """Stop and join running loads; whatever they still deliver is ignored (the view is going away)."""
        self.workers.shutdown(msecs / 1000)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until this loader's running loads end; False if one is still running."""
        return self.workers.wait(msecs / 1000)
