"""The confusion matrix as a heat map (a table whose cells are coloured by count) and the images of a cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: at most this many thumbnails for one cell
MAX_THUMBNAILS = 200


class ConfusionView(QTableWidget):
    """Rows = true class, columns = predicted class; a click emits ``cell_chosen(true, predicted)``."""

    cell_chosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # ten classes fit without a scroll bar in the space the Train workspace gives the matrix
        self.verticalHeader().setMinimumSectionSize(12)
        self.horizontalHeader().setMinimumSectionSize(12)
        self.setToolTip("Rows: true class; columns: predicted class. Click a cell to see its images.")
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.cellClicked.connect(lambda r, c: self.cell_chosen.emit(r, c))

    def set_matrix(self, matrix: np.ndarray, classes: list[str] | tuple[str, ...]) -> None:
        matrix = np.asarray(matrix, dtype=np.int64)
        n = matrix.shape[0]
        if self.rowCount() != n:
            self.setRowCount(n)
            self.setColumnCount(n)
        names = [str(c) for c in classes][:n] + [str(i) for i in range(len(classes), n)]
        self.setHorizontalHeaderLabels([f"→{c}" for c in names])
        self.setVerticalHeaderLabels(names)
        totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
        share = matrix / totals
        for r in range(n):
            for c in range(n):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(r, c, item)
                item.setText(str(int(matrix[r, c])))
                item.setBackground(QBrush(_heat(share[r, c], diagonal=r == c)))
                item.setForeground(QBrush(QColor("white" if share[r, c] > 0.55 else "black")))
        self.matrix = matrix


def _heat(value: float, diagonal: bool) -> QColor:
    """White to blue on the diagonal (right), white to red off it (mistakes)."""
    v = float(min(1.0, max(0.0, value)))
    if not diagonal and v > 0:
        v = min(1.0, 0.15 + v * 2.0)
        return QColor(int(255 - 40 * v), int(255 - 200 * v), int(255 - 200 * v))
    return QColor(int(255 - 225 * v), int(255 - 155 * v), int(255 - 75 * v))


class CellImages(QWidget):
    """Thumbnails of the validation images in one confusion-matrix cell."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Click a cell of the confusion matrix to see its images.")
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(56, 56))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)

    def show_images(self, title: str, images: np.ndarray, captions: list[str]) -> None:
        self.title.setText(title)
        self.list.clear()
        for image, caption in zip(images[:MAX_THUMBNAILS], captions[:MAX_THUMBNAILS]):
            item = QListWidgetItem(QIcon(_pixmap(image)), caption)
            self.list.addItem(item)

    @property
    def count(self) -> int:
        return self.list.count()


def _pixmap(image: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(56, 56, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)
