"""Feature maps: the chosen layer's channels as a grid; a click on a channel enlarges it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.layer_strip import LayerStrip


class FeatureMapsView(QWidget):
    """Layer strip on top, the grid below. ``channel_chosen(layer, channel)`` when a tile is clicked."""

    layer_chosen = Signal(str)
    channel_chosen = Signal(str, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.strip = LayerStrip()
        self.grid = ImageView(minimum=160)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.cmap = QComboBox()
        self.cmap.addItems(["viridis", "gray", "jet"])
        self.cmap.setToolTip("Colour map; each channel is auto-levelled from its own minimum to maximum")
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Colours:"))
        top.addWidget(self.cmap)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.strip)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        self._layout_info = None
        self._layer = ""
        self.strip.layer_chosen.connect(self.layer_chosen)
        self.grid.clicked.connect(self._on_click)

    def show_grid(self, layer: str, label: str, grid: np.ndarray, layout, shape_text: str, channels: int, shown: int) -> None:
        self._layer = layer
        self._layout_info = layout
        self.grid.set_image(grid)
        more = f" (first {shown} shown)" if shown < channels else ""
        self.caption.setText(
            f"<b>{label}</b> — output {shape_text}: {channels} channel(s){more}. "
            "Each tile is auto-levelled; click one to enlarge it beside the input."
        )
        self.strip.set_current(layer)

    def show_message(self, text: str) -> None:
        self._layout_info = None
        self.grid.set_message(text)
        self.caption.setText("")

    def _on_click(self, x: float, y: float) -> None:
        if self._layout_info is None:
            return
        index = self._layout_info.tile_at(x, y)
        if index is not None:
            self.channel_chosen.emit(self._layer, index)

    def tile_center(self, index: int):
        """The position of tile ``index`` in ``self.grid`` coordinates (for tests)."""
        from PySide6.QtCore import QPoint

        x, y, w, h = self._layout_info.rects[index]
        rect = self.grid.target_rect()
        sx = rect.width() / self._layout_info.width
        sy = rect.height() / self._layout_info.height
        return QPoint(int(rect.x() + (x + w / 2) * sx), int(rect.y() + (y + h / 2) * sy))
