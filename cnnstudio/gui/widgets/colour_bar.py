"""A vertical colour bar: the colour map of an image beside it, with the values its ends stand for."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR_WIDTH = 14


class ColourBar(QWidget):
    """``set_map(lut)`` with a (256, 3) uint8 table (low at the bottom); ``set_labels(top, bottom, title)``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lut = np.stack([np.arange(256, dtype=np.uint8)] * 3, axis=1)
        self._top = self._bottom = self._title = ""
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(80)

    def set_map(self, lut: np.ndarray) -> None:
        self._lut = np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[:, :3])
        self.update()

    def set_labels(self, top: str, bottom: str, title: str = "") -> None:
        self._top, self._bottom, self._title = top, bottom, title
        self.setToolTip(f"{title}: {bottom} (bottom) … {top} (top)" if title else f"{bottom} … {top}")
        self.updateGeometry()
        self.update()

    def labels(self) -> tuple[str, str, str]:
        return self._top, self._bottom, self._title

    def _text_width(self) -> int:
        fm = self.fontMetrics()
        return max(fm.horizontalAdvance(t) for t in (self._top, self._bottom, "0"))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(BAR_WIDTH + 6 + self._text_width() + (self.fontMetrics().height() + 4 if self._title else 0), 160)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.sizeHint().width(), 80)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        fm = self.fontMetrics()
        text = self.palette().color(QPalette.ColorRole.WindowText)
        title_w = fm.height() + 4 if self._title else 0
        top, bottom = fm.height() // 2 + 1, self.height() - fm.height() // 2 - 1
        column = np.ascontiguousarray(self._lut[::-1][:, None, :].repeat(BAR_WIDTH, axis=1))
        image = QImage(column.data, BAR_WIDTH, 256, BAR_WIDTH * 3, QImage.Format.Format_RGB888).copy()
        bar = QRect(title_w, top, BAR_WIDTH, max(1, bottom - top))
        painter.drawImage(bar, image)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(bar.adjusted(0, 0, -1, -1))
        painter.setPen(text)
        x = title_w + BAR_WIDTH + 4
        painter.drawText(QRect(x, 0, self.width() - x, fm.height() + 2), Qt.AlignmentFlag.AlignLeft, self._top)
        painter.drawText(QRect(x, self.height() - fm.height() - 2, self.width() - x, fm.height() + 2),
                         Qt.AlignmentFlag.AlignLeft, self._bottom)
        if self._title:
            painter.save()
            painter.translate(0, self.height())
            painter.rotate(-90)
            painter.drawText(QRect(0, 0, self.height(), title_w), Qt.AlignmentFlag.AlignCenter, self._title)
            painter.restore()
        painter.end()


__all__ = ["ColourBar"]
