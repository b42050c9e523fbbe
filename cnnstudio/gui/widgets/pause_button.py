"""The Pause/Continue toggle of a background job (Train, Experiments).

The button holds no job state of its own: it asks ``control_of()`` for the running job's control (an object
with ``pause()``/``resume()``, or None when nothing runs), relabels itself, and emits :attr:`paused` so the
workspace can say what pausing means for its job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget


class PauseButton(QPushButton):
    paused = Signal()  # the job's control was just paused

    def __init__(self, control_of: Callable[[], Any], tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__("Pause", parent)
        self._control_of = control_of
        self.setCheckable(True)
        self.setToolTip(tooltip)
        self.toggled.connect(self._on_toggled)

    def _on_toggled(self, paused: bool) -> None:
        control = self._control_of()
        if control is None:
            return
        if paused:
            control.pause()
            self.setText("Continue")
            self.paused.emit()
        else:
            control.resume()
            self.setText("Pause")

    def reset(self) -> None:
        """Back to "Pause", unchecked, without touching any control (a new job starts running)."""
        self.blockSignals(True)
        self.setChecked(False)
        self.setText("Pause")
        self.blockSignals(False)
