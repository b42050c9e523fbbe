"""Play, pause, step, back and speed for the step-through views."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # steps per second


class StepControls(QWidget):
    """``step_changed(index)`` fires whenever the current step changes (0-based)."""

    step_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._count = 0
        self._step = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.shortcuts: list[QShortcut] = []
        self.first_button = self._button("|◀ First", "Back to the first window (Home)", self.first)
        self.back_button = self._button("◀ Back", "One step back (Left arrow)", self.back)
        self.play_button = self._button("▶ Play", "Play or pause the animation (Space)", self.toggle_play)
        self.play_button.setMinimumWidth(80)
        self.next_button = self._button("Step ▶", "One step forward (Right arrow)", self.next)
        self.last_button = self._button("Last ▶|", "Jump to the last step: the whole result (End)", self.last)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=len(SPEEDS) - 1, value=2)
        self.speed_slider.setFixedWidth(120)
        self.speed_slider.setToolTip("Animation speed")
        self.speed_label = QLabel()
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(110)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button):
            layout.addWidget(w)
        layout.addSpacing(12)
        layout.addWidget(self.step_label)
        layout.addStretch(1)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.speed_slider)
        layout.addWidget(self.speed_label)
        self.speed_slider.valueChanged.connect(self._on_speed)
        self._on_speed()
        self._refresh()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.clicked.connect(slot)
        return button

    def install_shortcuts(self, page: QWidget) -> None:
        """Space plays or pauses, Left/Right step, Home/End jump, while ``page`` is the visible page.

        Window-wide shortcuts of a hidden page are inactive in Qt, so each step-through page can own
        the same keys; a focused number field still gets its own arrows and typing.
        """
        for key, slot in ((Qt.Key.Key_Space, self._space), (Qt.Key.Key_Right, self.next),
                          (Qt.Key.Key_Left, self.back), (Qt.Key.Key_Home, self.first), (Qt.Key.Key_End, self.last)):
            shortcut = QShortcut(QKeySequence(key), page)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts.append(shortcut)

    def _space(self) -> None:
        """Space plays or pauses, unless a button or list of the page has the keyboard focus: that keeps
        its own Space (press the button, open the list), as keyboard users expect."""
        from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox

        focus = QApplication.focusWidget()
        own = (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button)
        if isinstance(focus, QAbstractButton) and focus not in own:
            focus.animateClick()
        elif isinstance(focus, QComboBox):
            focus.showPopup()
        else:
            self.toggle_play()

    # --- API -------------------------------------------------------------------------------------
    def count(self) -> int:
        return self._count

    def current(self) -> int:
        return self._step

    def set_count(self, count: int, keep: bool = True) -> None:
        """Set the number of steps; keeps the current step where possible."""
        self._count = max(0, count)
        step = min(self._step, self._count - 1) if keep else 0
        self._step = max(0, step)
        if self._count <= 1:
            self.pause()
        self._refresh()
        self.step_changed.emit(self._step)

    def set_step(self, index: int) -> None:
        if self._count == 0:
            return
        index = max(0, min(self._count - 1, index))
        if index != self._step:
            self._step = index
            self._refresh()
            self.step_changed.emit(index)
        else:
            self._refresh()

    def next(self) -> None:
        self.set_step(self._step + 1)

    def back(self) -> None:
        self.set_step(self._step - 1)

    def first(self) -> None:
        self.set_step(0)

    def last(self) -> None:
        self.pause()
        self.set_step(self._count - 1)

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if self._count <= 1:
            return
        if self._step >= self._count - 1:
            self.set_step(0)
        self._timer.start()
        self._refresh()

    def pause(self) -> None:
        self._timer.stop()
        self._refresh()

    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def speed(self) -> float:
        return SPEEDS[self.speed_slider.value()]

    def set_speed(self, steps_per_second: float) -> None:
        self.speed_slider.setValue(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - steps_per_second)))

    # --- internals -------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._step >= self._count - 1:
            self.pause()
            return
        self.next()
        if self._step >= self._count - 1:
            self.pause()

    def _on_speed(self) -> None:
        speed = self.speed()
        self.speed_label.setText(f"{speed:g} steps/s")
        self._timer.setInterval(int(1000 / speed))

    def _refresh(self) -> None:
        has = self._count > 0
        self.step_label.setText(f"Step {self._step + 1} of {self._count}" if has else "No steps")
        self.play_button.setText("❚❚ Pause" if self.is_playing() else "▶ Play")
        self.first_button.setEnabled(has and self._step > 0)
        self.back_button.setEnabled(has and self._step > 0)
        self.next_button.setEnabled(has and self._step < self._count - 1)
        self.last_button.setEnabled(has and self._step < self._count - 1)
        self.play_button.setEnabled(self._count > 1)


__all__ = ["SPEEDS", "StepControls"]
