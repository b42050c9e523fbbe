"""Step through a convolution on a small grid, as the lecture's animation does (1 or 3 channels)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.exercises import GridExample, grid_examples
from cnnstudio.core.ops import ConvTrace, conv_trace, format_number
from cnnstudio.gui.theme import set_tone
from cnnstudio.gui.widgets.number_grid import OUTPUT_COLOUR, NumberGrid
from cnnstudio.gui.workspaces.playground.channel_column import ChannelColumn
from cnnstudio.gui.workspaces.playground.conv_params import ConvParams, ConvParamsEditor
from cnnstudio.gui.workspaces.playground.step_controls import StepControls

MAX_GRID = 12
MODEL_ENTRY = "__model__"  # the example list's entry for grids opened from a model
OUTPUT_TINT = (220, 252, 231)  # the lecture draws the result green


def resize_top_left(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros(values.shape[:-2] + (rows, cols))
    h, w = min(rows, values.shape[-2]), min(cols, values.shape[-1])
    out[..., :h, :w] = values[..., :h, :w]
    return out


class ConvStepPage(QWidget):
    """The window moves over the input; the window and output cell light up; products and sums are shown."""

    status = Signal(str)
    _custom: dict | None = None  # the grids load_grids showed last (Reset shows them again)

    def __init__(self, examples: list[GridExample] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._examples = examples if examples is not None else [e for e in grid_examples() if e.kind == "conv"]
        self._input = np.zeros((1, 5, 5))
        self._kernel = np.zeros((1, 3, 3))
        self._names: tuple[str, ...] = ()
        self._trace: ConvTrace | None = None
        self._columns: list[ChannelColumn] = []
        self._loading = False

        # --- side panel ---
        self.example_combo = QComboBox()
        for example in self._examples:
            self.example_combo.addItem(example.title, example.name)
        self.description_label = QLabel(wordWrap=True)
        self.description_label.setStyleSheet("color: palette(placeholder-text);")
        self.rows_spin = QSpinBox(minimum=1, maximum=MAX_GRID)
        self.cols_spin = QSpinBox(minimum=1, maximum=MAX_GRID)
        self.krows_spin = QSpinBox(minimum=1, maximum=7)
        self.kcols_spin = QSpinBox(minimum=1, maximum=7)
        self.bias_spin = QDoubleSpinBox(minimum=-1000, maximum=1000, decimals=2)
        self.bias_spin.setToolTip("Added to the sum at every position")
        self.random_button = QPushButton("Random values")
        self.random_button.setToolTip("Fill the input and the kernel with small random whole numbers")
        self.reset_button = QPushButton("Reset example")
        self.params_editor = ConvParamsEditor(max_padding=3)
        sizes = QFormLayout()
        sizes.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a big font: the label goes above
        sizes.addRow("Input rows × cols", self._pair(self.rows_spin, self.cols_spin))
        sizes.addRow("Kernel rows × cols", self._pair(self.krows_spin, self.kcols_spin))
        sizes.addRow("Bias", self.bias_spin)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 4, 4, 4)
        example_box = QGroupBox("Example")
        example_layout = QVBoxLayout(example_box)
        example_layout.addWidget(self.example_combo)
        example_layout.addWidget(self.description_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.random_button)
        buttons.addWidget(self.reset_button)
        example_layout.addLayout(buttons)
        grid_box = QGroupBox("Grids")
        grid_box.setLayout(sizes)
        params_box = QGroupBox("Padding, stride, dilation")
        QVBoxLayout(params_box).addWidget(self.params_editor)
        for box in (example_box, grid_box, params_box):
            side_layout.addWidget(box)
        side_layout.addStretch(1)
        side.setMinimumWidth(270)  # wider when the font asks for it (buttons, labels), never narrower
        side.setMaximumWidth(340)

        # --- grids ---
        self.columns_layout = QHBoxLayout()
        self.columns_layout.setSpacing(14)
        self.output_title = QLabel("Output")
        self.output_title.setStyleSheet("font-weight: 600;")
        from PySide6.QtGui import QColor

        self.output_grid = NumberGrid(tint=QColor(*OUTPUT_TINT))
        self.output_grid.setToolTip("Filled in step by step; the current cell is outlined")
        self.output_grid.cell_clicked.connect(self._on_output_clicked)
        self.total_label = QLabel()
        self.total_label.setStyleSheet("font-size: 18px; font-weight: 700;")
        self.total_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        output_column = QVBoxLayout()
        output_column.addWidget(self.output_title)
        output_column.addWidget(self.output_grid, 0, Qt.AlignmentFlag.AlignLeft)
        output_column.addStretch(1)
        grids = QWidget()
        grids_layout = QHBoxLayout(grids)
        grids_layout.addLayout(self.columns_layout)
        arrow = QLabel("→")
        arrow.setStyleSheet("font-size: 28px; color: palette(placeholder-text);")
        grids_layout.addWidget(arrow, 0, Qt.AlignmentFlag.AlignVCenter)
        grids_layout.addLayout(output_column)
        grids_layout.addStretch(1)
        self.equation_label = QLabel(wordWrap=True)
        self.equation_label.setTextFormat(Qt.TextFormat.RichText)
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.equation_label.setStyleSheet("font-size: 13px;")
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(grids)
        content_layout.addWidget(self.total_label)
        content_layout.addWidget(self.equation_label)
        content_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll = scroll
        scroll.viewport().installEventFilter(self)  # the cells grow and shrink with the room they have

        self.message_label = QLabel(wordWrap=True)
        set_tone(self.message_label, "error")
        self.controls = StepControls()
        self.controls.install_shortcuts(self)
        main = QVBoxLayout()
        main.addWidget(scroll, 1)
        main.addWidget(self.message_label)
        main.addWidget(self.controls)
        layout = QHBoxLayout(self)
        layout.addWidget(side)
        layout.addLayout(main, 1)

        # --- wiring ---
        self.example_combo.currentIndexChanged.connect(lambda _i: self.load_example(self.example_combo.currentData()))
        self.reset_button.clicked.connect(lambda: self.load_example(self.example_combo.currentData()))
        self.random_button.clicked.connect(self.randomise)
        for spin in (self.rows_spin, self.cols_spin):
            spin.valueChanged.connect(self._on_input_size)
        for spin in (self.krows_spin, self.kcols_spin):
            spin.valueChanged.connect(self._on_kernel_size)
        self.bias_spin.valueChanged.connect(self._recompute)
        self.params_editor.changed.connect(self._recompute)
        self.controls.step_changed.connect(self._show_step)
        if self._examples:
            self.load_example(self._examples[0].name)

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(a)
        row.addWidget(QLabel("×"))
        row.addWidget(b)
        return w

    # --- API -------------------------------------------------------------------------------------
    def trace(self) -> ConvTrace | None:
        return self._trace

    def columns(self) -> list[ChannelColumn]:
        return list(self._columns)

    def input(self) -> np.ndarray:
        return self._input.copy()

    def kernel(self) -> np.ndarray:
        return self._kernel.copy()

    def example_names(self) -> list[str]:
        return [e.name for e in self._examples]

    def load_example(self, name: str) -> None:
        example = next((e for e in self._examples if e.name == name), None)
        if example is None:
            if name == MODEL_ENTRY and self._custom:  # Reset on grids from a model: those grids again
                self.load_grids(**self._custom)
            return
        self._loading = True
        try:
            index = self.example_combo.findData(name)
            if index != self.example_combo.currentIndex():
                self.example_combo.blockSignals(True)
                self.example_combo.setCurrentIndex(index)
                self.example_combo.blockSignals(False)
            self.description_label.setText(example.description)
            self.description_label.setMinimumHeight(self.description_label.heightForWidth(236))
            self._input = example.input.copy()
            self._kernel = example.kernel.copy()
            self._names = example.channel_names
            self._set_spins(self._input.shape[1:], self._kernel.shape[1:])
            self.bias_spin.setDecimals(2)
            self.bias_spin.setValue(example.bias)
            self.params_editor.set_params(ConvParams(example.padding, example.pad_mode, example.pad_value,
                                                     example.stride, example.dilation))
            self._build_columns()
        finally:
            self._loading = False
        self._recompute(keep_step=False)

    def set_grids(self, x: np.ndarray, kernel: np.ndarray) -> None:
        """Replace the input (C, H, W) and kernel (C, kh, kw) grids."""
        self._input = np.asarray(x, float).reshape((-1,) + np.shape(x)[-2:])
        self._kernel = np.asarray(kernel, float).reshape((-1,) + np.shape(kernel)[-2:])
        self._loading = True
        self._set_spins(self._input.shape[1:], self._kernel.shape[1:])
        self._loading = False
        if len(self._columns) != self._input.shape[0]:
            self._build_columns()
        self._recompute(keep_step=False)

    def load_grids(self, x: np.ndarray, kernel: np.ndarray, bias: float = 0.0, params: ConvParams | None = None,
                   title: str = "From the model", description: str = "", step: int = 0) -> None:
        """Show given grids (a model's convolution, from Inspect): input (C, H, W), kernel (C, kh, kw), the exact
        bias and parameters, at output step ``step``. The example list gets a ``title`` entry for them."""
        self._custom = {"x": np.array(x), "kernel": np.array(kernel), "bias": float(bias), "params": params,
                        "title": title, "description": description, "step": int(step)}
        self._loading = True
        try:
            index = self.example_combo.findData(MODEL_ENTRY)
            if index < 0:
                self.example_combo.addItem(title, MODEL_ENTRY)
                index = self.example_combo.count() - 1
            self.example_combo.setItemText(index, title)
            self.example_combo.blockSignals(True)
            self.example_combo.setCurrentIndex(index)
            self.example_combo.blockSignals(False)
            self.description_label.setText(description)
            self.description_label.setMinimumHeight(self.description_label.heightForWidth(236))
            self._input = np.asarray(x, float).reshape((-1,) + np.shape(x)[-2:])
            self._kernel = np.asarray(kernel, float).reshape((-1,) + np.shape(kernel)[-2:])
            self._names = ()
            self._set_spins(self._input.shape[1:], self._kernel.shape[1:])
            self.bias_spin.setDecimals(6)  # a trained bias, not the lecture's whole numbers
            self.bias_spin.setValue(float(bias))
            self.params_editor.set_params(params or ConvParams())
            self._build_columns()
        finally:
            self._loading = False
        self._recompute(keep_step=False)
        self.controls.pause()
        self.controls.set_step(int(step))

    def randomise(self) -> None:
        rng = np.random.default_rng()
        self.set_grids(rng.integers(0, 10, self._input.shape), rng.integers(-2, 3, self._kernel.shape))

    # --- internals -------------------------------------------------------------------------------
    def _set_spins(self, size, ksize) -> None:
        for spin, value in zip((self.rows_spin, self.cols_spin, self.krows_spin, self.kcols_spin),
                               (*size, *ksize), strict=True):
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)

    def _build_columns(self) -> None:
        for column in self._columns:
            self.columns_layout.removeWidget(column)
            column.hide()  # at once: deleteLater waits for the event loop
            column.setParent(None)
            column.deleteLater()
        self._columns = []
        channels = self._input.shape[0]
        for c in range(channels):
            name = self._names[c] if c < len(self._names) else ""
            column = ChannelColumn(c, name, channels)
            column.input_edited.connect(lambda c=c: self._on_input_edited(c))
            column.kernel_edited.connect(lambda c=c: self._on_kernel_edited(c))
            column.invalid_entry.connect(self._show_error)
            self.columns_layout.addWidget(column)
            self._columns.append(column)

    def _on_input_size(self) -> None:
        if not self._loading:
            self._input = resize_top_left(self._input, self.rows_spin.value(), self.cols_spin.value())
            self._recompute(keep_step=False)

    def _on_kernel_size(self) -> None:
        if not self._loading:
            self._kernel = resize_top_left(self._kernel, self.krows_spin.value(), self.kcols_spin.value())
            self._recompute(keep_step=False)

    def _on_input_edited(self, c: int) -> None:
        p = self.params_editor.params()
        self._input[c] = self._columns[c].inner_input((p.padding, p.padding))
        self._recompute()

    def _on_kernel_edited(self, c: int) -> None:
        self._kernel[c] = self._columns[c].kernel_grid.values()
        self._recompute()

    def _on_output_clicked(self, row: int, col: int) -> None:
        if self._trace is not None:
            self.controls.pause()
            self.controls.set_step(row * self._trace.output.shape[1] + col)

    def _show_error(self, text: str) -> None:
        self.message_label.setText(text)
        self.status.emit(text)

    def _recompute(self, *_args, keep_step: bool = True) -> None:
        if self._loading:
            return
        p = self.params_editor.params()
        _, h, w = self._input.shape
        kh, kw = self._kernel.shape[1:]
        self.params_editor.show_formula(h, w, kh, kw)
        try:
            trace = conv_trace(self._input, self._kernel, self.bias_spin.value(), p.stride, p.padding, p.pad_mode,
                               p.pad_value, p.dilation)
        except UserError as exc:
            self._trace = None
            self.message_label.setText(str(exc))
            from cnnstudio.core.ops import pad2d

            try:
                padded = pad2d(self._input, p.padding, p.pad_mode, p.pad_value)
            except UserError:
                padded = self._input
                p = ConvParams()
            for c, column in enumerate(self._columns):
                column.set_data(padded[c], (p.padding, p.padding), self._kernel[c], self._cell_size(padded.shape))
                column.show_step(None)
            self.output_grid.set_values(np.zeros((1, 1)))
            self.output_grid.set_blank(np.ones((1, 1), bool))
            self.output_grid.hide()  # no output: not a grid of one empty cell under a stale size
            self.output_title.setText("Output: none, the kernel does not fit")
            self.total_label.setText("")
            self.equation_label.setText("")
            self.controls.set_count(0)
            return
        self.message_label.setText("")
        self._trace = trace
        cell = self._cell_size(trace.padded.shape)
        for c, column in enumerate(self._columns):
            column.set_data(trace.padded[c], trace.padding, trace.kernel[c], cell)
        self.output_grid.set_cell_size(max(cell, 34))
        self.output_grid.set_values(trace.output)
        self.output_grid.show()
        self.output_title.setText(f"Output ({trace.output.shape[0]} × {trace.output.shape[1]})")
        self.controls.set_count(trace.num_steps, keep=keep_step)

    def _cell_size(self, padded_shape) -> int:
        """Big cells for few, small for many; all channels and the output fit the width (no sideways scrolling)."""
        channels = padded_shape[0]
        biggest = max(padded_shape[-2:])
        if channels > 1:
            size = int(max(22, min(36, 240 // biggest)))
        else:
            size = int(max(24, min(56, 420 // biggest)))
        room = self._scroll.viewport().width()
        if room > 200 and self._trace is not None:
            out_cols = self._trace.output.shape[-1]
            output = out_cols * max(size, 34) + 60  # the output grid, the arrow and spacing
            per_channel = (room - output - 30) / channels - 14
            size = int(max(18, min(size, per_channel // max(1, padded_shape[-1]))))
        return size

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Resize and obj is self._scroll.viewport():
            self._refit()
        return False

    def _refit(self) -> None:
        trace = self._trace
        if trace is not None and self._columns:
            cell = self._cell_size(trace.padded.shape)
            if cell != self._columns[0].input_grid.cell_size():
                for c, column in enumerate(self._columns):
                    column.set_data(trace.padded[c], trace.padding, trace.kernel[c], cell)
                if self.controls.count():
                    self._show_step(self.controls.current())

    def _show_step(self, index: int) -> None:
        trace = self._trace
        if trace is None or trace.num_steps == 0:
            return
        step = trace.step(index)
        for column in self._columns:
            column.show_step(step)
        blank = np.arange(trace.output.size).reshape(trace.output.shape) > index
        self.output_grid.set_blank(blank)
        self.output_grid.set_highlights([({(step.out_row, step.out_col)}, OUTPUT_COLOUR, True)])
        channels = trace.kernel.shape[0]
        where = f"Output row {step.out_row + 1}, column {step.out_col + 1}"
        if channels > 1 or trace.bias != 0:
            self.total_label.setText(f"{where}:  {step.total_equation()}")
        else:
            self.total_label.setText(f"{where}:  {format_number(step.total)}")
        lines = []
        for c in range(channels):
            name = self._names[c] if c < len(self._names) else (f"Channel {c + 1}" if channels > 1 else "")
            prefix = f"<b>{name}:</b> " if name else ""
            lines.append(prefix + step.equation(c))
        self.equation_label.setText("<br>".join(lines))

    def shutdown(self) -> None:
        self.controls.pause()


__all__ = ["ConvStepPage", "resize_top_left"]
