"""Mistakes: the validation images the model gets wrong, most confident first (sortable); click one to
inspect it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.tiles import labelled_tile

SORTS = (
    ("most confident first", "confidence", True),
    ("least confident first", "confidence", False),
    ("by true class", "true", False),
    ("by predicted class", "predicted", False),
)


class MistakesView(QWidget):
    sample_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sort = QComboBox()
        for title, key, desc in SORTS:
            self.sort.addItem(title, (key, desc))
        self.limit = QSpinBox()
        self.limit.setRange(4, 200)
        self.limit.setValue(32)
        self.limit.setToolTip("How many mistakes to show")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.grid = ImageView(minimum=160)
        row = QHBoxLayout()
        row.addWidget(QLabel("Sort:"))
        row.addWidget(self.sort)
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.limit)
        row.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.grid, 1)
        self._session = None
        self._shown: list = []
        self._layout = None
        self.sort.currentIndexChanged.connect(lambda _i: self._redraw())
        self.limit.valueChanged.connect(lambda _v: self._redraw())
        self.grid.clicked.connect(self._on_click)

    def update_view(self, session) -> None:
        self._session = session
        self._redraw()

    def shown(self) -> list:
        return list(self._shown)

    def _redraw(self) -> None:
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.inspect.mistakes import sort_mistakes
        from cnnstudio.ml.inspect.render import tile_images

        session = self._session
        if session is None or session.model is None:
            self.grid.set_message("Open a model to list its mistakes.")
            return
        try:
            mistakes = session.mistakes()
        except UserError as exc:
            self.grid.set_message(str(exc))
            self.caption.setText("")
            self._shown = []
            return
        total = session.sample_count
        if not mistakes:
            self.grid.set_message(f"No mistakes: all {total} validation images are classified correctly.")
            self.caption.setText("")
            self._shown = []
            return
        key, desc = self.sort.currentData()
        ordered = sort_mistakes(mistakes[:], key, desc) if key != "confidence" or not desc else mistakes
        self._shown = ordered[: self.limit.value()]
        data = session.dataset
        meta = session.model.meta
        tiles = np.stack([labelled_tile(data.val_x[m.index], f"{meta.class_name(m.true)}>{meta.class_name(m.predicted)}",
                                         f"{m.confidence:.0%}") for m in self._shown])
        image, self._layout = tile_images(tiles, labels=False)
        self.grid.set_image(image)
        self.caption.setText(
            f"{len(mistakes)} of {total} validation images are wrong ({1 - len(mistakes) / max(1, total):.1%} accuracy). "
            "Each tile: true > predicted, confidence. Click one to inspect it."
        )

    def _on_click(self, x: float, y: float) -> None:
        if self._layout is None:
            return
        index = self._layout.tile_at(x, y)
        if index is not None and index < len(self._shown):
            self.sample_chosen.emit(self._shown[index].index)
