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
