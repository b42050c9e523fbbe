"""The confusion matrix as a heat map (a table whose cells are coloured by count) and the images of a cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.theme import mix, readable_on

#: at most this many thumbnails for one cell
MAX_THUMBNAILS = 200
PROMPT = "Click a cell of the confusion matrix to see its images."
#: a matrix of up to this many classes is shown whole, every count readable
MAX_FITTED = 16


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

    def clear_matrix(self) -> None:
        """No matrix (a new project, or a run that has none)."""
        self.setRowCount(0)
        self.setColumnCount(0)
        self.matrix = np.zeros((0, 0), dtype=np.int64)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """Room for every column and row at its smallest readable size: counts are never elided."""
        n = min(self.columnCount(), MAX_FITTED)
        if not n:
            return super().minimumSizeHint()
        frame = 2 * self.frameWidth()
        width = self.verticalHeader().sizeHint().width() + n * self.horizontalHeader().minimumSectionSize() + frame
        height = self.horizontalHeader().sizeHint().height() + n * self.verticalHeader().minimumSectionSize() + frame
        return QSize(width, height)

    def set_matrix(self, matrix: np.ndarray, classes: list[str] | tuple[str, ...]) -> None:
        matrix = np.asarray(matrix, dtype=np.int64)
        n = matrix.shape[0]
        if self.rowCount() != n:
            self.setRowCount(n)
            self.setColumnCount(n)
        names = [str(c) for c in classes][:n] + [str(i) for i in range(len(classes), n)]
        self.setHorizontalHeaderLabels(names)
        self.setVerticalHeaderLabels(names)
        # every count fits its cell (a 10x10 matrix of 3-digit counts at 1280x720): never "…"
        digits = len(str(int(matrix.max()))) if matrix.size else 1
        widest = max([self.fontMetrics().horizontalAdvance("8" * digits)]
                     + [self.horizontalHeader().fontMetrics().horizontalAdvance(c) for c in names])
        self.horizontalHeader().setMinimumSectionSize(widest + 10)
        self.verticalHeader().setMinimumSectionSize(self.fontMetrics().height() + 2)
        # up to MAX_FITTED classes the view is given room for every cell (no scroll bars); more classes scroll
        policy = Qt.ScrollBarPolicy.ScrollBarAsNeeded if n > MAX_FITTED else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)
        self.updateGeometry()
        totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
        share = matrix / totals
        base = self.palette().color(QPalette.ColorRole.Base)
        for r in range(n):
            for c in range(n):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(r, c, item)
                item.setText(str(int(matrix[r, c])))
                colour = _heat(share[r, c], diagonal=r == c, base=base)
                item.setBackground(QBrush(colour))
                item.setForeground(QBrush(readable_on(colour)))
                item.setToolTip(f"true {names[r]}, predicted {names[c]}: {int(matrix[r, c])} "
                                f"({share[r, c]:.0%} of {names[r]})")
        self.matrix = matrix
        self._classes = names

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.matrix.size:
            self.set_matrix(self.matrix, getattr(self, "_classes", []))  # recolour for the new theme


#: full colours of the heat map: right answers (diagonal) and mistakes
RIGHT = QColor(30, 100, 180)
WRONG = QColor(215, 55, 55)


def _heat(value: float, diagonal: bool, base: QColor | None = None) -> QColor:
    """From the table's base colour (white, or dark in the dark theme) to blue on the diagonal, red off it."""
    base = base or QColor("white")
    v = float(min(1.0, max(0.0, value)))
    target = RIGHT
    if not diagonal and v > 0:
        v = min(1.0, 0.15 + v * 2.0)
        target = WRONG
    return mix(base, target, v)


class VerticalLabel(QWidget):
    """A label written bottom to top (the confusion matrix's row title)."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = text
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        fm = self.fontMetrics()
        return QSize(fm.height() + 4, fm.horizontalAdvance(self._text) + 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.sizeHint()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.translate(0, self.height())
        painter.rotate(-90)
        painter.drawText(QRect(0, 0, self.height(), self.width()), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()


class ConfusionPanel(QWidget):
    """The matrix with its axis titles: "predicted class" over the columns, "true class" beside the rows."""

    def __init__(self, view: ConfusionView, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.predicted_title = QLabel("predicted class")
        self.predicted_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.true_title = VerticalLabel("true class")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.predicted_title, 0, 1)
        grid.addWidget(self.true_title, 1, 0)
        grid.addWidget(view, 1, 1)


class CellImages(QWidget):
    """Thumbnails of the validation images in one confusion-matrix cell."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(PROMPT)
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(56, 56))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)

    def clear(self) -> None:
        self.show_images(PROMPT, np.zeros((0, 1, 1, 3), np.uint8), [])

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
