"""Files opened from the desktop: ``cnnstudio FILE``, a second launch, a double-click, macOS Finder.

Every file goes through :meth:`MainWindow.open_path`, the window's one way to open a file (a drop
uses it too); this module only picks the window and the workspace to try first:

- a project (.cnnproj) opens in the active window when that window has no unsaved changes, else in
  a new window, so nothing unsaved is ever replaced or asked about;
- an ONNX model opens in Inspect;
- an image opens in Inspect when Inspect is in view (its model classifies it), else in the Playground;
- anything else goes where a drop would put it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from cnnstudio.core.project import PROJECT_SUFFIX
from cnnstudio.gui.main_window import MainWindow


def preferred_workspace(path: Path, current: str) -> str | None:
    """The workspace a desktop-opened file should try first (None: where a drop would go)."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "inspect"
    from cnnstudio.ml.preprocess import IMAGE_SUFFIXES  # numpy: not on the start-up path

    if suffix in IMAGE_SUFFIXES:
        return "inspect" if current == "inspect" else "playground"
    return None


class DesktopOpener(QObject):
    """Keeps the app's main windows and opens files handed over by the desktop in the right one."""

    def __init__(self, window: MainWindow, make_window: Callable[[], MainWindow] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._windows: list[MainWindow] = [window]
        self._make_window = make_window or MainWindow
        app = QApplication.instance()
        if app is not None and sys.platform == "darwin":  # an app-wide filter sees every event: only there
            app.installEventFilter(self)

    def windows(self) -> list[MainWindow]:
        """The open main windows, most recently created last (closed ones are forgotten)."""
        self._windows = [w for w in self._windows if w.isVisible()]
        return list(self._windows)

    def current_window(self) -> MainWindow | None:
        active = QApplication.activeWindow()
        windows = self.windows()
        if isinstance(active, MainWindow) and active in windows:
            return active
        return windows[-1] if windows else None

    def new_window(self) -> MainWindow:
        window = self._make_window()
        self._windows.append(window)
        window.show()
        return window

    def open_paths(self, paths: Iterable[Path]) -> list[MainWindow]:
        """Open each file; returns the window each one went to."""
        used = []
        for path in paths:
            window = self.current_window() or self.new_window()
            if path.suffix.lower() == PROJECT_SUFFIX and window.ctx.document.dirty:
                window = self.new_window()  # the other window's unsaved work stays as it is
            window.open_path(path, workspace=preferred_workspace(path, window.current_workspace_name()))
            window.raise_()
            window.activateWindow()
            used.append(window)
        return used

    def open_requested_paths(self, paths: list[str]) -> None:
        """The files a later launch handed over (:class:`InstanceServer`'s ``open_requested``)."""
        self.open_paths([Path(p) for p in paths])

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            self.open_paths([Path(event.file())])  # macOS: Finder's "open with" and double-clicks
            return True
        return False


def start_desktop(window: MainWindow, files: Iterable[Path], *, listen: bool = True) -> DesktopOpener:
    """The opener for the app's first window: opens ``files`` once the event loop runs and, with
    ``listen``, takes the files of later launches (see :mod:`cnnstudio.gui.single_instance`)."""
    from PySide6.QtCore import QTimer

    opener = DesktopOpener(window, parent=QApplication.instance())
    files = list(files)
    if files:
        QTimer.singleShot(0, opener, lambda: opener.open_paths(files))
    if listen:
        from cnnstudio.gui.single_instance import InstanceServer

        opener.server = InstanceServer(parent=opener)
        # a bound slot, not a lambda holding the server's parent (the hazard InstanceServer's comment explains)
        opener.server.open_requested.connect(opener.open_requested_paths)
        opener.server.listen()
    return opener
