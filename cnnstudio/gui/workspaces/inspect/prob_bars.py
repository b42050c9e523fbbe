"""Top-k class probabilities as horizontal bars."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


class ProbabilityBars(QWidget):
    """Bars for ``[(name, probability), ...]``, best first; the true class (if known) is marked."""

    def __init__(self, parent: QWidget | None = None, rows: int = 5):
        super().__init__(parent)
        self._items: list[tuple[str, float]] = []
        self._true: str | None = None
        self._rows = rows
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(rows * 20 + 4)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(220, self._rows * 20 + 4)

    def set_items(self, items: list[tuple[str, float]], true_name: str | None = None) -> None:
        self._items = list(items)[: self._rows]
        self._true = true_name
        self.setToolTip("\n".join(f"{n}: {p:.1%}" for n, p in self._items))
        self.update()

    def items(self) -> list[tuple[str, float]]:
        return list(self._items)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        pal = self.palette()
        label_w = 70
        value_w = 52
        bar_w = max(10, self.width() - label_w - value_w - 8)
        for row, (name, prob) in enumerate(self._items):
            y = 2 + row * 20
            correct = self._true is not None and name == self._true
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            text = name if len(name) <= 10 else name[:9] + "…"
            painter.drawText(QRectF(0, y, label_w - 4, 18), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             ("✓ " if correct else "") + text)
            painter.fillRect(QRectF(label_w, y + 3, bar_w, 12), pal.color(QPalette.ColorRole.AlternateBase))
            colour = QColor(60, 160, 90) if correct or (self._true is None and row == 0) else QColor(70, 120, 200)
            if self._true is not None and row == 0 and not correct:
                colour = QColor(210, 80, 60)
            painter.fillRect(QRectF(label_w, y + 3, bar_w * max(0.0, min(1.0, prob)), 12), colour)
            painter.drawText(QRectF(label_w + bar_w + 4, y, value_w, 18), Qt.AlignmentFlag.AlignVCenter, f"{prob:.1%}")
        painter.end()
