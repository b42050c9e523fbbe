"""The Qt binding must not corrupt the interpreter: PySide6 6.12.0 on CPython < 3.12 dropped a
reference to None on every void call and to True on every signal emit, until the process died
(fatal none_dealloc / bool_dealloc). pyproject.toml pins PySide6 below 6.12 for that."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


def test_void_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.repaint()
    assert sys.getrefcount(None) >= before - 50, "the PySide6 build drops references to None"


def test_signal_emits_do_not_leak_references_to_true():
    class Emitter(QObject):
        ping = Signal()
        value = Signal(object)

    emitter = Emitter()
    before = sys.getrefcount(True)
    for _ in range(2000):
        emitter.ping.emit()
        emitter.value.emit(1)
    assert sys.getrefcount(True) >= before - 50, "the PySide6 build drops references to True"
