"""Inspect's Draw tab: draw a digit with the mouse; the model's prediction (and every other view) follows live."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.gui.widgets.drawing_pad import DrawingPad
from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.prob_bars import ProbabilityBars

DRAWING_TITLE = "your drawing"


class DrawTab(QWidget):
    """The pad, what the model sees of it, and the top classes. :meth:`attach` wires it to the workspace."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pad = DrawingPad()
        self.seen = ImageView(minimum=120)
        self.seen.setToolTip("The drawing as the model gets it: cropped, resized and inverted as its preprocessing says")
        self.bars = ProbabilityBars(rows=5)
        self.hint = QLabel("Draw with the mouse; the prediction updates while you draw. "
                           "The feature maps and the other tabs show the drawing too.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>As the model sees it</b>"))
        right.addWidget(self.seen, 1)
        right.addWidget(QLabel("<b>Prediction</b>"))
        right.addWidget(self.bars)
        right.addWidget(self.hint)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.pad, 3)
        layout.addLayout(right, 2)
        self.updates = 0  # how many times a drawing was run through the model
        self._ws = None

    def attach(self, workspace) -> None:
        self._ws = workspace
        self.pad.changed.connect(self._on_drawn)

    def _on_drawn(self) -> None:
        from cnnstudio.core.errors import UserError

        ws = self._ws
        if ws is None or ws.session.model is None:
            self.hint.setText("No model is open yet.")
            return
        if self.pad.is_empty():
            self.bars.set_items([])
            self.seen.set_message("Draw a digit on the pad.")
            return
        try:
            ws.session.use_image(self.pad.image(), DRAWING_TITLE)
        except UserError as exc:
            self.hint.setText(str(exc))
            return
        self.updates += 1
        ws.refresh()  # the input, top classes, feature maps and this tab (update_view)

    def update_view(self, session) -> None:
        """Show what the model makes of the drawing (when the drawing is the input)."""
        from cnnstudio.ml.inspect.render import enlarge
        from cnnstudio.ml.inspect.session import network_view

        inp, model = session.input, session.model
        if inp is None or model is None or session.analysis is None or inp.title != DRAWING_TITLE:
            return
        pre = model.meta.preprocess
        self.seen.set_image(enlarge(network_view(inp.tensor, pre.mean, pre.std), 224))
        self.bars.set_items([(n, p) for _i, n, p in session.analysis.top(model.meta, 5)])
