"""What every Lab tab has: a control column, a Run/Stop pair, a progress line and the shared workers."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.robustness.widgets import ProgressLine


class _ControlsScroll(QScrollArea):
    """Asks for the whole height of its controls (QScrollArea caps its wish at 24 lines), and shrinks, then
    scrolls, only when the window is shorter."""

    def sizeHint(self):  # noqa: N802 - Qt API
        hint = super().sizeHint()
        if self.widget() is not None:
            hint.setHeight(self.widget().sizeHint().height() + 2 * self.frameWidth())
        return hint

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # rows were added to the controls: the wish above changed
        return super().eventFilter(obj, event)


class LabTab(QWidget):
    """A tab: ``self.form`` (controls, left), ``self.view`` (results, right), ``self.progress``."""

    def __init__(self, workers: WorkerGroup, title: str, intro: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.workers = workers
        self.tag = type(self).__name__
        self._control = None
        outer = QHBoxLayout(self)
        controls = QVBoxLayout()  # what explains and sets up the experiment: scrolls when tall
        box = QGroupBox(title)
        self.form = QFormLayout(box)
        about = QLabel(intro)
        about.setWordWrap(True)
        about.setMaximumWidth(330)
        controls.addWidget(about)
        controls.addWidget(box)
        holder = QWidget()
        holder.setLayout(controls)
        holder.setMaximumWidth(350)
        # the controls scroll up and down when a large font makes them taller than the window (1280x720 at
        # 11 pt), instead of squeezing the lists and boxes in them; Run/Stop and the messages stay in view
        scroll = _ControlsScroll()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.viewport().setAutoFillBackground(False)  # the tab page's own colour, not a Window-coloured strip
        holder.setAutoFillBackground(False)
        bar = scroll.style().pixelMetric(scroll.style().PixelMetric.PM_ScrollBarExtent)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(scroll)
        below = QVBoxLayout()  # Run/Stop, progress and messages, lined up with the box above them
        m = controls.contentsMargins()
        below.setContentsMargins(m.left(), 0, m.right() + bar + 2, 0)
        left.addLayout(below)
        self.buttons = QHBoxLayout()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the running job (Esc or Ctrl+.)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        below.addLayout(self.buttons)
        self.progress = ProgressLine()
        below.addWidget(self.progress)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setFixedWidth(330)
        self.message.setMinimumHeight(64)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        below.addWidget(self.message)
        left.addStretch(1)
        column = QWidget()
        column.setLayout(left)
        column.setFixedWidth(350 + bar + 2)
        outer.addWidget(column)
        self.view = QVBoxLayout()
        outer.addLayout(self.view, 1)

    def add_button(self, text: str, tip: str, slot, shortcut: str | None = None) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
        if shortcut:
            button.setShortcut(shortcut)
        button.clicked.connect(slot)
        self.buttons.addWidget(button)
        return button

    def finish_buttons(self) -> None:
        self.buttons.addWidget(self.stop_button)
        first = self.buttons.itemAt(0).widget()
        if first is not None:
            self.message.setText(f"{first.text()} (Ctrl+Return) starts, Esc or Ctrl+. stops.")

    # --- jobs -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.workers.busy(self.tag)

    def start(self, func, *args, text: str, on_partial=None, on_done=None, with_control: bool = False):
        """Run ``func`` (a jobs.py generator) on the group; Steps drive the progress line."""
        from cnnstudio.gui.workspaces.robustness.jobs import Partial, Step
        from cnnstudio.ml.train_events import TrainControl

        self.message.setText("")
        self.progress.begin(text)
        self._control = TrainControl() if with_control else None
        if with_control:
            args = (self._control, *args)

        def on_yield(item):
            if isinstance(item, Step):
                self.progress.set_fraction(item.fraction, item.text)
            elif isinstance(item, Partial) and on_partial is not None:
                on_partial(item.kind, item.value)

        def done(value):
            self.progress.done("Done.")
            if on_done is not None:
                on_done(value)

        def error(sentence: str):
            self.progress.failed("Stopped." if self._control is not None and self._control.cancelled else "Failed.")
            self.message.setText(sentence)

        self.workers.run(func, *args, tag=self.tag, on_yield=on_yield, on_done=done, on_error=error,
                         on_finish=self._job_ended, cancel=self._control.cancel if self._control else None,
                         failure="The experiment failed")
        self._set_running(True)

    def _job_ended(self) -> None:
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
        for i in range(self.buttons.count()):
            widget = self.buttons.itemAt(i).widget()
            if widget is not None and widget is not self.stop_button:
                widget.setEnabled(not running and self.can_run(widget))

    def can_run(self, button: QPushButton) -> bool:
        """Whether ``button`` may start now (subclasses: e.g. only with a model loaded)."""
        return True

    def refresh_buttons(self) -> None:
        self._set_running(self.running)

    def stop(self) -> None:
        if self._control is not None:
            self._control.cancel()
        self.workers.cancel(self.tag)
        self.progress.failed("Stopped.")
        self._set_running(False)
