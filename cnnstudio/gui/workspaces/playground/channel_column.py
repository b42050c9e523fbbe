"""One input channel in the step-through: its (padded) grid, its kernel slice, the products and their sum."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnstudio.core.ops import ConvStep, format_number
from cnnstudio.gui.widgets.number_grid import WINDOW_COLOUR, NumberGrid

CHANNEL_TINTS = {
    "red": QColor(254, 228, 228),
    "green": QColor(222, 247, 229),
    "blue": QColor(224, 234, 255),
}
PLAIN_TINT = QColor(226, 236, 255)  # the lecture draws the input blue


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600;")
    label.setWordWrap(True)  # three channels side by side at 1280x720: the title wraps, the grids stay
    return label


class ChannelColumn(QWidget):
    input_edited = Signal()
    kernel_edited = Signal()
    invalid_entry = Signal(str)

    def __init__(self, index: int, name: str, channels: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        tint = CHANNEL_TINTS.get(name.lower(), PLAIN_TINT)
        suffix = f" #{index + 1} ({name})" if name else (f" #{index + 1}" if channels > 1 else "")
        self.input_title = _title(f"Input channel{suffix}" if channels > 1 or name else "Input")
        self.input_grid = NumberGrid(editable=True, tint=tint)
        self.input_grid.setToolTip("Click a cell and type to change the input (grey cells are padding)")
        self.kernel_title = _title(f"Kernel channel #{index + 1}" if channels > 1 else "Kernel")
        self.kernel_grid = NumberGrid(editable=True, cell_size=34)
        self.kernel_grid.setToolTip("Click a cell and type to change the kernel")
        self.products_title = _title("Products (input × weight)")
        self.products_grid = NumberGrid(cell_size=34, heat=True)
        self.products_grid.setToolTip("Each window value times the kernel weight on top of it")
        self.sum_label = QLabel()
        self.sum_label.setStyleSheet("font-size: 15px; font-weight: 700;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(4)
        for title, widgets in ((self.input_title, (self.input_grid,)), (self.kernel_title, (self.kernel_grid,)),
                               (self.products_title, (self.products_grid, self.sum_label))):
            if title is not self.input_title:
                layout.addSpacing(6)
            layout.addWidget(title)
            for w in widgets:
                layout.addWidget(w, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.input_grid.values_changed.connect(self.input_edited)
        self.kernel_grid.values_changed.connect(self.kernel_edited)
        self.input_grid.invalid_entry.connect(self.invalid_entry)
        self.kernel_grid.invalid_entry.connect(self.invalid_entry)

    def set_data(self, padded: np.ndarray, padding: tuple[int, int], kernel: np.ndarray, cell: int) -> None:
        self.input_grid.set_cell_size(cell)
        self.input_grid.set_values(padded)
        ph, pw = padding
        fixed = np.ones(padded.shape, bool)
        fixed[ph: padded.shape[0] - ph, pw: padded.shape[1] - pw] = False
        self.input_grid.set_fixed(fixed)
        self.kernel_grid.set_values(kernel)

    def inner_input(self, padding: tuple[int, int]) -> np.ndarray:
        values = self.input_grid.values()
        ph, pw = padding
        return values[ph: values.shape[0] - ph, pw: values.shape[1] - pw]

    def show_step(self, step: ConvStep | None) -> None:
        if step is None:
            self.input_grid.set_highlights([])
            self.input_grid.set_subscripts({})
            self.products_grid.set_values(np.zeros_like(self.kernel_grid.values()))
            self.products_grid.set_blank(np.ones(self.kernel_grid.shape(), bool))
            self.sum_label.setText("")
            return
        c = self.index
        cells = {(r, col) for r in step.rows for col in step.cols}
        self.input_grid.set_highlights([(cells, WINDOW_COLOUR, True)])
        subs = {(r, col): format_number(step.kernel[c, i, j])
                for i, r in enumerate(step.rows) for j, col in enumerate(step.cols)}
        self.input_grid.set_subscripts(subs)
        self.products_grid.set_values(step.products[c])
        self.products_grid.set_blank(np.zeros(step.products[c].shape, bool))
        self.sum_label.setText(f"Σ = {format_number(step.channel_sums[c])}")


__all__ = ["CHANNEL_TINTS", "ChannelColumn"]
