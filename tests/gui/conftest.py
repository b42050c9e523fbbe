"""GUI fixtures: a QApplication with isolated QSettings, and a main window that is closed after use."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def qapp_args():
    return ["cnnstudio-tests"]


@pytest.fixture(scope="session")
def qapp_cls():
    from PySide6.QtWidgets import QApplication

    return QApplication


@pytest.fixture(autouse=True)
def _isolated_settings(qapp, tmp_path):
    """QSettings read and write an INI file in the test's temporary folder."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("CNN Studio Tests")
    QCoreApplication.setApplicationName("CNN Studio Tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield


class DialogRecorder:
    """Stands in for modal dialogs in tests: records what would be shown, never blocks."""

    def __init__(self):
        self.shown: list[tuple[str, str, str]] = []  # (kind, title, text)

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, _title, text in self.shown if kind is None or k == kind]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """No test may block on a modal dialog: message boxes answer at once (question -> Discard/No),
    file dialogs are cancelled unless a test patches them. ``dialogs.shown`` lists what was shown."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    recorder = DialogRecorder()
    button = QMessageBox.StandardButton

    def message(kind, default):
        def show(parent, title, text, *args, **kwargs):
            recorder.shown.append((kind, title, text))
            return default

        return staticmethod(show)

    monkeypatch.setattr(QMessageBox, "critical", message("critical", button.Ok))
    monkeypatch.setattr(QMessageBox, "warning", message("warning", button.Ok))
    monkeypatch.setattr(QMessageBox, "information", message("information", button.Ok))
    monkeypatch.setattr(QMessageBox, "question", message("question", button.Discard))
    monkeypatch.setattr(QMessageBox, "about", message("about", None))
    for name in ("getOpenFileName", "getSaveFileName", "getOpenFileNames"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    return recorder


@pytest.fixture
def ctx(qapp):
    from cnnstudio.gui.context import AppContext

    context = AppContext()
    yield context
    context.deleteLater()


@pytest.fixture
def main_window(qtbot, qapp):
    """The main window (device probing off so tests stay fast and thread-free)."""
    import pyqtgraph as pg

    from cnnstudio.gui.main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major")
    window = MainWindow(probe_device=False)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.ctx.document.mark_clean()
    window.close()


@pytest.fixture
def make_workspace(qtbot, ctx):
    """``make_workspace("train", size=(1200, 800))``: that workspace built on ``ctx``, resized and shown (unless
    ``show=False``); every workspace made is shut down (timers, threads, cameras) after the test."""
    import importlib

    made = []

    def make(name: str, size: tuple[int, int] | None = None, show: bool = True):
        workspace_class = importlib.import_module(f"cnnstudio.gui.workspaces.{name}").Workspace
        ws = workspace_class(ctx)
        qtbot.addWidget(ws)
        made.append(ws)
        if size is not None:
            ws.resize(*size)
        if show:
            ws.show()
        return ws

    yield make
    for ws in reversed(made):
        ws.shutdown()
