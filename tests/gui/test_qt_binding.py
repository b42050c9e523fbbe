"""The Qt binding must not corrupt the interpreter: PySide6 6.12.0 on CPython < 3.12 dropped a
reference to None on every void call until the process died (fatal none_dealloc)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.repaint()
    assert sys.getrefcount(None) >= before - 50, "the PySide6 build drops references to None"
