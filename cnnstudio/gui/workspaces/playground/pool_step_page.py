"""Step through a pooling (max, min, average, median) on a small grid."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.exercises import GridExample, grid_examples
from cnnstudio.core.ops import PoolTrace, conv_output_formula, pool_trace
from cnnstudio.gui.theme import set_tone
from cnnstudio.gui.widgets.number_grid import OUTPUT_COLOUR, PICK_COLOUR, WINDOW_COLOUR, NumberGrid
from cnnstudio.gui.workspaces.playground.channel_column import PLAIN_TINT
from cnnstudio.gui.workspaces.playground.conv_step_page import MAX_GRID, OUTPUT_TINT, resize_top_left
from cnnstudio.gui.workspaces.playground.step_controls import StepControls

POOL_TITLES = {"max": "Max", "min": "Min", "avg": "Average", "median": "Median"}
POOL_HELP = {
    "max": "Keeps the largest value of each window (the usual choice: 2x2, stride 2).",
    "min": "Keeps the smallest value of each window.",
    "avg": "The mean of each window (padded cells count as 0, as in PyTorch).",
    "median": "The middle value of each window (the mean of the two middle ones for an even count; "
              "padded cells are ignored).",
}


class PoolStepPage(QWidget):
    status = Signal(str)

    def __init__(self, examples: list[GridExample] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._examples = examples if examples is not None else [e for e in grid_examples() if e.kind == "pool"]
        self._input = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)
        self._trace: PoolTrace | None = None
        self._loading = False

        self.mode_combo = QComboBox()
        for key, title in POOL_TITLES.items():
            self.mode_combo.addItem(title, key)
        self.size_spin = QSpinBox(minimum=1, maximum=5, value=2)
        self.stride_spin = QSpinBox(minimum=1, maximum=5, value=2)
        self.padding_spin = QSpinBox(minimum=0, maximum=2, value=0)
        self.padding_spin.setToolTip("At most half the pool size (as in PyTorch)")
        self.rows_spin = QSpinBox(minimum=1, maximum=MAX_GRID, value=4)
        self.cols_spin = QSpinBox(minimum=1, maximum=MAX_GRID, value=4)
        self.random_button = QPushButton("Random values")
        self.reset_button = QPushButton("Reset example")
        self.help_label = QLabel(wordWrap=True)
        self.help_label.setStyleSheet("color: palette(placeholder-text);")
        self.formula_label = QLabel(wordWrap=True)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a big font: the label goes above
        form.addRow("Pool", self.mode_combo)
        form.addRow("Size", self.size_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow("Padding", self.padding_spin)
        rows = QHBoxLayout()
        rows.addWidget(self.rows_spin)
        rows.addWidget(QLabel("×"))
        rows.addWidget(self.cols_spin)
        form.addRow("Input rows × cols", rows)
        box = QGroupBox("Pooling")
        box_layout = QVBoxLayout(box)
        box_layout.addLayout(form)
        box_layout.addWidget(self.help_label)
        box_layout.addWidget(self.formula_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.random_button)
        buttons.addWidget(self.reset_button)
        box_layout.addLayout(buttons)
        side = QVBoxLayout()
        side.addWidget(box)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setMinimumWidth(300)  # wider when the font asks for it, never narrower
        side_widget.setMaximumWidth(360)

        self.input_grid = NumberGrid(editable=True, cell_size=46, tint=PLAIN_TINT)
        self.input_grid.setToolTip("Click a cell and type to change the input (grey cells are padding)")
        self.output_grid = NumberGrid(cell_size=46, tint=QColor(*OUTPUT_TINT))
        self.output_grid.cell_clicked.connect(self._on_output_clicked)
        self.input_title = QLabel("Input")
        self.output_title = QLabel("Output")
        for label in (self.input_title, self.output_title):
            label.setStyleSheet("font-weight: 600;")
        grids = QHBoxLayout()
        col_in = QVBoxLayout()
        col_in.addWidget(self.input_title)
        col_in.addWidget(self.input_grid)
        col_in.addStretch(1)
        col_out = QVBoxLayout()
        col_out.addWidget(self.output_title)
        col_out.addWidget(self.output_grid)
        col_out.addStretch(1)
        arrow = QLabel("→")
        arrow.setStyleSheet("font-size: 28px; color: palette(placeholder-text);")
        grids.addLayout(col_in)
        grids.addWidget(arrow, 0, Qt.AlignmentFlag.AlignVCenter)
        grids.addLayout(col_out)
        grids.addStretch(1)
        self.equation_label = QLabel()
        self.equation_label.setStyleSheet("font-size: 18px; font-weight: 700;")
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label = QLabel(wordWrap=True)
        set_tone(self.message_label, "error")
        self.controls = StepControls()
        self.controls.install_shortcuts(self)
        main = QVBoxLayout()
        main.addLayout(grids, 1)
        main.addWidget(self.equation_label)
        main.addWidget(self.message_label)
        main.addWidget(self.controls)
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addLayout(main, 1)

        for w in (self.size_spin, self.stride_spin, self.padding_spin):
            w.valueChanged.connect(self._recompute)
        self.mode_combo.currentIndexChanged.connect(self._recompute)
        self.rows_spin.valueChanged.connect(self._on_size)
        self.cols_spin.valueChanged.connect(self._on_size)
        self.input_grid.values_changed.connect(self._on_edited)
        self.input_grid.invalid_entry.connect(self._show_error)
        self.random_button.clicked.connect(self.randomise)
        self.reset_button.clicked.connect(self.reset_example)
        self.controls.step_changed.connect(self._show_step)
        self.reset_example()

    # --- API -------------------------------------------------------------------------------------
    def trace(self) -> PoolTrace | None:
        return self._trace

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    def input(self) -> np.ndarray:
        return self._input.copy()

    def set_input(self, values) -> None:
        self._input = np.asarray(values, float)
        self._loading = True
        self.rows_spin.setValue(self._input.shape[0])
        self.cols_spin.setValue(self._input.shape[1])
        self._loading = False
        self._recompute(keep_step=False)

    def load_example(self, example: GridExample) -> None:
        self._loading = True
        self.set_mode(example.pool_mode)
        self.size_spin.setValue(example.pool_size)
        self.stride_spin.setValue(example.stride)
        self.padding_spin.setValue(example.padding)
        self._loading = False
        self.set_input(example.input[0])

    def reset_example(self) -> None:
        if self._examples:
            self.load_example(self._examples[0])
        else:
            self.set_input(self._input)

    def randomise(self) -> None:
        self.set_input(np.random.default_rng().integers(0, 10, self._input.shape))

    # --- internals -------------------------------------------------------------------------------
    def _on_size(self) -> None:
        if not self._loading:
            self._input = resize_top_left(self._input, self.rows_spin.value(), self.cols_spin.value())
            self._recompute(keep_step=False)

    def _on_edited(self) -> None:
        p = self.padding_spin.value()
        values = self.input_grid.values()
        self._input = values[p: values.shape[0] - p, p: values.shape[1] - p]
        self._recompute()

    def _on_output_clicked(self, row: int, col: int) -> None:
        if self._trace is not None:
            self.controls.pause()
            self.controls.set_step(row * self._trace.output.shape[2] + col)

    def _show_error(self, text: str) -> None:
        self.message_label.setText(text)
        self.status.emit(text)

    def _recompute(self, *_args, keep_step: bool = True) -> None:
        if self._loading:
            return
        mode = self.mode()
        self.help_label.setText(POOL_HELP[mode])
        size, stride, padding = self.size_spin.value(), self.stride_spin.value(), self.padding_spin.value()
        h, w = self._input.shape
        try:
            trace = pool_trace(self._input, size, stride, mode, padding)
            rows = conv_output_formula(h, size, stride, padding)
            cols = conv_output_formula(w, size, stride, padding)
        except UserError as exc:
            self._trace = None
            self.message_label.setText(str(exc))
            self.formula_label.setText("")
            self.input_grid.set_values(self._input)
            self.input_grid.set_highlights([])
            self.output_grid.set_values(np.zeros((1, 1)))
            self.output_grid.set_blank(np.ones((1, 1), bool))
            self.equation_label.setText("")
            self.controls.set_count(0)
            return
        self.message_label.setText("")
        self._trace = trace
        self.formula_label.setText(f"Output size = (n + 2p − k) / s + 1\nrows: {rows}\ncolumns: {cols}")
        # padded cells: 0 for the average (they count as zeros), "–" otherwise (they are ignored)
        padded = np.nan_to_num(trace.padded[0], nan=0.0) if mode == "avg" else trace.padded[0]
        self.input_grid.set_values(padded)
        fixed = np.ones(padded.shape, bool)
        fixed[padding: padded.shape[0] - padding, padding: padded.shape[1] - padding] = False
        self.input_grid.set_fixed(fixed)
        self.output_grid.set_values(trace.output[0])
        self.output_title.setText(f"Output ({trace.output.shape[1]} × {trace.output.shape[2]})")
        self.controls.set_count(trace.num_steps, keep=keep_step)

    def _show_step(self, index: int) -> None:
        trace = self._trace
        if trace is None or trace.num_steps == 0:
            return
        step = trace.step(index)
        cells = {(r, c) for r in step.rows for c in step.cols}
        highlights = [(cells, WINDOW_COLOUR, True)]
        if step.picked is not None:
            highlights.append(({step.picked}, PICK_COLOUR, False))
        self.input_grid.set_highlights(highlights)
        blank = np.arange(trace.output[0].size).reshape(trace.output.shape[1:]) > index
        self.output_grid.set_blank(blank)
        self.output_grid.set_highlights([({(step.out_row, step.out_col)}, OUTPUT_COLOUR, True)])
        self.equation_label.setText(step.equation(trace.mode))

    def shutdown(self) -> None:
        self.controls.pause()


__all__ = ["POOL_TITLES", "PoolStepPage"]
