"""HeatmapView: a small 2-D array painted with a diverging colour map and a labelled colour bar."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnstudio.core.ops import format_number
from cnnstudio.gui.widgets.number_grid import diverging_colour


class HeatmapView(QWidget):
    """Blue for negative, white for zero, red for positive, symmetric around zero; no numbers in cells."""

    def __init__(self, values=None, parent: QWidget | None = None, *, side: int = 120):
        super().__init__(parent)
        self._values = np.zeros((3, 3)) if values is None else np.asarray(values, float)
        self._side = side
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolTip("The kernel as a heat map: red weights add, blue weights subtract, white ones ignore.")

    def set_values(self, values) -> None:
        self._values = np.asarray(values, float)
        self.update()

    def values(self) -> np.ndarray:
        return self._values.copy()

    def scale(self) -> float:
        finite = self._values[np.isfinite(self._values)]
        return float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self._side + 58, self._side + 2)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        rows, cols = self._values.shape
        cell = self._side / max(rows, cols)
        scale = self.scale()
        for r in range(rows):
            for c in range(cols):
                rect = QRect(int(c * cell), int(r * cell), int((c + 1) * cell) - int(c * cell),
                             int((r + 1) * cell) - int(r * cell))
                painter.fillRect(rect, diverging_colour(self._values[r, c], scale))
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        painter.drawRect(QRect(0, 0, int(cols * cell), int(rows * cell)))
        # colour bar
        bar = QRect(self._side + 8, 4, 12, self._side - 8)
        gradient = QLinearGradient(bar.topLeft(), bar.bottomLeft())
        for t in np.linspace(0, 1, 9):
            gradient.setColorAt(float(t), diverging_colour(scale * (1 - 2 * t), scale))
        painter.fillRect(bar, gradient)
        painter.drawRect(bar)
        painter.setPen(self.palette().color(self.foregroundRole()))
        font = painter.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        x = bar.right() + 4
        painter.drawText(QRect(x, bar.top() - 6, 40, 14), Qt.AlignmentFlag.AlignLeft, format_number(scale, 2))
        painter.drawText(QRect(x, bar.center().y() - 7, 40, 14), Qt.AlignmentFlag.AlignLeft, "0")
        painter.drawText(QRect(x, bar.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignLeft, format_number(-scale, 2))
        painter.end()


__all__ = ["HeatmapView"]
