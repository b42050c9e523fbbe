"""The kernel editor: presets, a custom grid up to 11x11, normalise, numbers and a heat map."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.kernels import DEFAULT_PRESET, MAX_KERNEL_SIZE, PRESETS, check_kernel, normalise_kernel
from cnnstudio.core.ops import format_number
from cnnstudio.gui.widgets.heatmap_view import HeatmapView
from cnnstudio.gui.widgets.number_grid import NumberGrid

CUSTOM = "custom"


def resized(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The grid at a new size, keeping the centre: new cells are 0, cut cells are dropped."""
    out = np.zeros((rows, cols))
    h, w = values.shape
    r0, c0 = (rows - h) // 2, (cols - w) // 2
    src = values[max(0, -r0): max(0, -r0) + min(h, rows), max(0, -c0): max(0, -c0) + min(w, cols)]
    out[max(0, r0): max(0, r0) + src.shape[0], max(0, c0): max(0, c0) + src.shape[1]] = src
    return out


class KernelEditor(QWidget):
    kernel_changed = Signal()
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.preset_combo = QComboBox()
        for preset in PRESETS.values():
            self.preset_combo.addItem(preset.title, preset.name)
        self.preset_combo.addItem("Custom", CUSTOM)
        self.preset_combo.setToolTip("The lecture's special kernels and a few classics; edit any cell for your own.")
        self.rows_spin = QSpinBox(minimum=1, maximum=MAX_KERNEL_SIZE, value=3, suffix=" rows")
        self.cols_spin = QSpinBox(minimum=1, maximum=MAX_KERNEL_SIZE, value=3, suffix=" cols")
        for spin in (self.rows_spin, self.cols_spin):
            spin.setToolTip(f"Kernel size, 1 to {MAX_KERNEL_SIZE}")
        self.normalise_button = QPushButton("Normalise")
        self.normalise_button.setToolTip("Scale the weights so they sum to 1 (keeps the brightness)")
        self.grid = NumberGrid(editable=True)
        self.grid.setToolTip("Click a cell and type a number (Enter keeps it, arrows move)")
        self.heatmap = HeatmapView(side=96)
        self.sum_label = QLabel()
        self.help_label = QLabel(wordWrap=True)
        self.help_label.setStyleSheet("color: palette(placeholder-text);")

        top = QHBoxLayout()
        top.addWidget(self.preset_combo, 1)
        top.addWidget(self.normalise_button)
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.rows_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.cols_spin)
        size_row.addStretch(1)
        views = QGridLayout()
        views.addWidget(QLabel("Numbers"), 0, 0)
        views.addWidget(QLabel("Heat map"), 0, 1)
        views.addWidget(self.grid, 1, 0)
        views.addWidget(self.heatmap, 1, 1)
        views.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(size_row)
        layout.addLayout(views)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.help_label)

        self.preset_combo.currentIndexChanged.connect(self._on_preset)
        self.rows_spin.valueChanged.connect(self._on_size)
        self.cols_spin.valueChanged.connect(self._on_size)
        self.grid.values_changed.connect(self._on_edited)
        self.grid.invalid_entry.connect(self.message)
        self.normalise_button.clicked.connect(self.normalise)
        self.set_preset(DEFAULT_PRESET)

    # --- API -------------------------------------------------------------------------------------
    def kernel(self) -> np.ndarray:
        return self.grid.values()

    def preset_name(self) -> str:
        return str(self.preset_combo.currentData())

    def set_preset(self, name: str) -> None:
        index = self.preset_combo.findData(name)
        if index < 0:
            raise ValueError(f"unknown preset {name}")
        if index == self.preset_combo.currentIndex():
            self._on_preset(index)
        else:
            self.preset_combo.setCurrentIndex(index)

    def set_kernel(self, values, preset: str = CUSTOM) -> None:
        k = check_kernel(values)
        self._show(k)
        self._select_quietly(preset)
        self.kernel_changed.emit()

    def normalise(self) -> None:
        k, note = normalise_kernel(self.kernel())
        self.set_kernel(k)
        self.message.emit(note)

    # --- internals -------------------------------------------------------------------------------
    def _show(self, k: np.ndarray) -> None:
        for spin, value in ((self.rows_spin, k.shape[0]), (self.cols_spin, k.shape[1])):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.grid.set_cell_size(max(22, min(38, 300 // max(k.shape))))
        self.grid.set_values(k)
        self.heatmap.set_values(k)
        self.sum_label.setText(f"Sum of the weights: {format_number(k.sum())}")

    def _select_quietly(self, name: str) -> None:
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))
        self.preset_combo.blockSignals(False)
        preset = PRESETS.get(name)
        self.help_label.setText(preset.help if preset else "Your own kernel: click a cell and type.")

    def _on_preset(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name == CUSTOM:
            self._select_quietly(CUSTOM)
            return
        self._show(PRESETS[name].values)
        self._select_quietly(name)
        self.kernel_changed.emit()

    def _on_size(self) -> None:
        k = resized(self.kernel(), self.rows_spin.value(), self.cols_spin.value())
        self._show(k)
        self._select_quietly(CUSTOM)
        self.kernel_changed.emit()

    def _on_edited(self) -> None:
        k = self.kernel()
        self.heatmap.set_values(k)
        self.sum_label.setText(f"Sum of the weights: {format_number(k.sum())}")
        self._select_quietly(CUSTOM)
        self.kernel_changed.emit()


__all__ = ["KernelEditor", "resized"]
