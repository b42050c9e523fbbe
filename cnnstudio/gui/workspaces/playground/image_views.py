"""The original and the filtered picture side by side, with zoom and pan linked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.ops import format_number
from cnnstudio.gui.theme import follow_palette, theme_graphics


def diverging_colormap() -> pg.ColorMap:
    """Blue (negative) – white (zero) – red (positive), the same colours as the grids' heat map."""
    colours = [(55, 125, 255), (255, 255, 255), (255, 80, 60)]
    return pg.ColorMap([0.0, 0.5, 1.0], colours)


def _window_colour(palette: QPalette):
    return palette.color(QPalette.ColorRole.Window)


class LinkedImageViews(QWidget):
    """Two image panes ("Original", "Result") whose views move together."""

    hover_text = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.original_graphics = pg.GraphicsLayoutWidget()
        self.result_graphics = pg.GraphicsLayoutWidget()
        for graphics in (self.original_graphics, self.result_graphics):
            # the window's colour around the picture, in either theme (and again when it changes)
            graphics.ci.setContentsMargins(2, 2, 2, 2)
        self.original_title = QLabel("Original")
        self.result_title = QLabel("Result")
        for label in (self.original_title, self.result_title):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("font-weight: 600;")
        self.original_box = self.original_graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                                              enableMenu=False)
        self.result_box = self.result_graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                                          enableMenu=False)
        # zoom and pan follow each other; not with setXLink/setYLink: the panes' aspect ratios differ
        # (the colour bar takes room), and two aspect-locked linked views keep widening each other
        self._syncing = False
        self.original_box.sigRangeChanged.connect(self._original_moved)
        self.result_box.sigRangeChangedManually.connect(self._result_moved)
        self.original_item = pg.ImageItem(axisOrder="row-major")
        self.result_item = pg.ImageItem(axisOrder="row-major")
        self.original_box.addItem(self.original_item)
        self.result_box.addItem(self.result_item)
        # the diverging result arrives as 0..255 colour indices, so the bar is not tied to the item's levels
        self.colour_bar = pg.ColorBarItem(colorMap=diverging_colormap(), interactive=False, width=14)
        self._lut = diverging_colormap().getLookupTable(nPts=256)
        self.result_graphics.addItem(self.colour_bar, row=0, col=1)
        self.colour_bar.setVisible(False)
        for graphics in (self.original_graphics, self.result_graphics):
            # the window's colour around the picture and the colour bar's scale, in either theme
            follow_palette(graphics, lambda g=graphics: theme_graphics(g, background=_window_colour))
        self.panes = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.panes.setContentsMargins(0, 0, 0, 0)
        for title, graphics in ((self.original_title, self.original_graphics),
                                (self.result_title, self.result_graphics)):
            pane = QVBoxLayout()
            pane.setSpacing(2)
            pane.addWidget(title)
            pane.addWidget(graphics, 1)
            self.panes.addLayout(pane, 1)
        self._original: np.ndarray | None = None
        self._result: np.ndarray | None = None
        self._result_geometry = (0.0, 0.0, 1.0, 1.0)  # x0, y0, step x, step y in original pixels
        self._shape: tuple[int, int] | None = None
        for graphics, box in ((self.original_graphics, self.original_box), (self.result_graphics, self.result_box)):
            graphics.scene().sigMouseMoved.connect(lambda pos, b=box: self._on_mouse_moved(b, pos))

    def _original_moved(self, *_args) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self.result_box.setRange(self.original_box.viewRect(), padding=0)
            finally:
                self._syncing = False

    def _result_moved(self, *_args) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self.original_box.setRange(self.result_box.viewRect(), padding=0)
            finally:
                self._syncing = False

    def stacked(self) -> bool:
        """True when the panes are one above the other (wide pictures), False when side by side."""
        return self.panes.direction() == QBoxLayout.Direction.TopToBottom

    def _best_arrangement(self) -> None:
        """Side by side, or one above the other: whichever shows the picture larger."""
        if self._shape is None:
            return
        h, w = self._shape
        width, height = max(1, self.width() - 40), max(1, self.height() - 50)
        side = min(width / 2 / w, height / h)
        stacked = min(width / w, height / 2 / h)
        direction = QBoxLayout.Direction.TopToBottom if stacked > side * 1.05 else QBoxLayout.Direction.LeftToRight
        if direction != self.panes.direction():
            self.panes.setDirection(direction)
            self.reset_zoom()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._best_arrangement()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._best_arrangement()
        self.reset_zoom()  # the panes had no real size before they were first shown

    def set_original(self, image: np.ndarray, title: str = "Original") -> None:
        self._original = image
        self.original_title.setText(title)
        self.original_item.setImage(image, autoLevels=False, levels=(0, 255))
        shape = image.shape[:2]
        if shape != self._shape:
            self._shape = shape
            self._best_arrangement()
            self.reset_zoom()

    def set_result(self, display: np.ndarray, levels: tuple[float, float], raw,
                   geometry: tuple[float, float, float, float], diverging: bool, title: str) -> None:
        """Show a filter result (uint8); ``geometry`` places output pixel (0, 0) and its size in original pixels.

        ``levels`` are the values at the ends of the colour bar (diverging display only).

        ``raw`` is the result's values (for the hover read-out), or a function that works them out on
        first use (the clipped display does not need them).
        """
        self._result = raw
        self._result_geometry = geometry
        self.result_title.setText(title)
        if diverging:
            self.result_item.setLookupTable(self._lut)
            self.colour_bar.setLevels(levels)
        else:
            self.result_item.setLookupTable(None)
        self.colour_bar.setVisible(diverging)
        self.result_item.setImage(display, autoLevels=False, levels=(0, 255))
        x0, y0, sx, sy = geometry
        h, w = display.shape[:2]
        self.result_item.setRect(QRectF(x0, y0, w * sx, h * sy))

    def result_values(self) -> np.ndarray | None:
        """The values of the shown result (worked out now if they were deferred)."""
        if callable(self._result):
            self._result = self._result()
        return self._result

    def clear_result(self, title: str) -> None:
        self._result = None
        self.result_title.setText(title)
        self.result_item.clear()
        self.colour_bar.setVisible(False)

    def reset_zoom(self) -> None:
        """Show the whole picture in both panes."""
        if self._shape is not None:
            whole = QRectF(0, 0, self._shape[1], self._shape[0])
            self.original_box.setRange(whole, padding=0.01)
            self._syncing = True
            try:
                self.result_box.setRange(whole, padding=0.01)
            finally:
                self._syncing = False

    def _on_mouse_moved(self, box: pg.ViewBox, pos: QPointF) -> None:
        if box.sceneBoundingRect().contains(pos):
            point = box.mapSceneToView(pos)
            self.hover_text.emit(self.describe(point.x(), point.y()))

    def describe(self, x: float, y: float) -> str:
        """The pixel under (x, y) in original coordinates: its value and the result there."""
        if self._original is None:
            return ""
        col, row = int(np.floor(x)), int(np.floor(y))
        h, w = self._original.shape[:2]
        if not (0 <= row < h and 0 <= col < w):
            return ""
        pixel = self._original[row, col]
        text = f"x {col}, y {row}: original {_values_text(pixel)}"
        values = self.result_values()
        if values is not None:
            x0, y0, sx, sy = self._result_geometry
            ri, rj = int(np.floor((y - y0) / sy)), int(np.floor((x - x0) / sx))
            if 0 <= ri < values.shape[0] and 0 <= rj < values.shape[1]:
                text += f"  →  result {_values_text(values[ri, rj])}"
        return text


def _values_text(value) -> str:
    arr = np.atleast_1d(np.asarray(value, float))
    parts = [format_number(v, 2) for v in arr]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


__all__ = ["LinkedImageViews", "diverging_colormap"]
