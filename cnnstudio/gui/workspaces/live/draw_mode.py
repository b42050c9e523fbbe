"""Live's drawing mode: a pad beside the video; what you draw is the source, run through the live pipeline
(the same preprocessing, model and overlays as a camera frame) while you draw."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QPushButton

from cnnstudio.gui.widgets.drawing_pad import DrawingPad


class LiveDrawMode(QObject):
    """Adds a "Draw a digit" toggle to the Live panel and a pad beside the video."""

    def __init__(self, workspace):
        super().__init__(workspace)
        self.ws = workspace
        self.source = None  # the DrawingSource while drawing
        self._roi_was = True
        self.button = QPushButton("Draw a digit")
        self.button.setCheckable(True)
        self.button.setToolTip("Draw with the mouse on a pad instead of the camera; the prediction follows live")
        self.pad = DrawingPad()
        self.pad.setMinimumWidth(260)
        self.pad.setMaximumWidth(420)
        self.pad.hide()
        panel_layout = workspace.panel.layout()
        panel_layout.insertWidget(1, self.button)
        workspace.layout().insertWidget(1, self.pad, 0)
        self.button.toggled.connect(self.set_active)
        self.pad.changed.connect(self._on_drawn)
        workspace.panel.source_combo.activated.connect(self._other_source_chosen)
        workspace.installEventFilter(self)

    def active(self) -> bool:
        return self.source is not None

    def set_active(self, on: bool) -> None:
        from cnnstudio.ml.video.drawing_source import DrawingSource

        ws = self.ws
        if self.button.isChecked() != on:
            self.button.setChecked(on)  # toggled calls back here
            return
        if on and self.source is None:
            ws.activated()  # the session exists once Live has started
            self.pad.show()
            self._roi_was = ws.panel.roi_check.isChecked()
            ws.panel.roi_check.setChecked(False)  # the whole pad is the input
            self.source = DrawingSource(self.pad.image())
            self._start()
            self.button.setText("Drawing: click to go back to the source")
            ws.ctx.show_status("Drawing mode: draw on the pad; the model runs on it as on a camera frame.")
        elif not on and self.source is not None:
            self._leave()
            if ws.source_text is not None:
                ws.set_source(ws.source_text)  # back to the camera, video or slideshow

    def _other_source_chosen(self, _index: int) -> None:
        """A camera, video or folder picked while drawing: Live has switched to it; leave drawing mode."""
        if self.source is not None:
            self._leave()

    def _leave(self) -> None:
        """Hide the pad, give the region of interest back and uncheck the toggle (without calling back)."""
        self.source = None
        self.pad.hide()
        self.ws.panel.roi_check.setChecked(self._roi_was)
        self.button.blockSignals(True)
        self.button.setChecked(False)
        self.button.setText("Draw a digit")
        self.button.blockSignals(False)

    def _start(self) -> None:
        if self.source is not None and self.ws.session is not None:
            self.ws.session.start(self.source)

    def _on_drawn(self) -> None:
        if self.source is not None:
            self.source.set_image(self.pad.image())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        # Live restarts its own source when shown again; while drawing, the pad is the source
        if obj is self.ws and event.type() == QEvent.Type.Show and self.source is not None:
            QTimer.singleShot(0, self, self._start)
        return False
