"""Padding (size, mode, value), stride and dilation controls with the output-size formula filled in."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.ops import PAD_MODES, conv_output_formula

PAD_MODE_TITLES = {
    "constant": "Constant value",
    "reflect": "Reflect (mirror)",
    "replicate": "Replicate the edge",
    "circular": "Circular (wrap)",
}


@dataclass(frozen=True)
class ConvParams:
    padding: int = 0
    pad_mode: str = "constant"
    pad_value: float = 0.0
    stride: int = 1
    dilation: int = 1


class ConvParamsEditor(QWidget):
    """A form of the convolution's hyper-parameters; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, max_padding: int = 20, compact: bool = False):
        super().__init__(parent)
        self.padding_spin = QSpinBox(minimum=0, maximum=max_padding)
        self.padding_spin.setToolTip("Rings of extra cells around the input (p)")
        self.mode_combo = QComboBox()
        for mode in PAD_MODES:
            self.mode_combo.addItem(PAD_MODE_TITLES[mode], mode)
        self.mode_combo.setToolTip("What the padded cells contain")
        self.value_spin = QDoubleSpinBox(minimum=-1000, maximum=1000, decimals=1, value=0.0)
        self.value_spin.setToolTip("The value of the padded cells (constant mode)")
        self.stride_spin = QSpinBox(minimum=1, maximum=16)
        self.stride_spin.setToolTip("How far the kernel jumps each step (s)")
        self.dilation_spin = QSpinBox(minimum=1, maximum=8)
        self.dilation_spin.setToolTip("Gaps between the kernel's cells (d); 1 = no gaps")
        self.formula_label = QLabel(wordWrap=True)
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Padding", self.padding_spin)
        form.addRow("Pad with", self.mode_combo)
        form.addRow("Pad value", self.value_spin)
        form.addRow("Stride", self.stride_spin)
        form.addRow("Dilation", self.dilation_spin)
        form.addRow(self.formula_label)
        for spin in (self.padding_spin, self.stride_spin, self.dilation_spin):
            spin.valueChanged.connect(self._emit)
        self.value_spin.valueChanged.connect(self._emit)
        self.mode_combo.currentIndexChanged.connect(self._emit)
        self._update_enabled()

    def params(self) -> ConvParams:
        return ConvParams(self.padding_spin.value(), str(self.mode_combo.currentData()), self.value_spin.value(),
                          self.stride_spin.value(), self.dilation_spin.value())

    def set_params(self, params: ConvParams) -> None:
        widgets = (self.padding_spin, self.mode_combo, self.value_spin, self.stride_spin, self.dilation_spin)
        for w in widgets:
            w.blockSignals(True)
        self.padding_spin.setValue(params.padding)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(params.pad_mode))
        self.value_spin.setValue(params.pad_value)
        self.stride_spin.setValue(params.stride)
        self.dilation_spin.setValue(params.dilation)
        for w in widgets:
            w.blockSignals(False)
        self._update_enabled()
        self.changed.emit()

    def show_formula(self, height: int, width: int, kernel_h: int, kernel_w: int) -> bool:
        """Fill in the output-size formula for an input and kernel; False (and a red message) if invalid."""
        p = self.params()
        try:
            rows = conv_output_formula(height, kernel_h, p.stride, p.padding, p.dilation)
            cols = conv_output_formula(width, kernel_w, p.stride, p.padding, p.dilation)
        except UserError as exc:
            self.formula_label.setText(f"<span style='color:#dc2626'>{exc}</span>")
            return False
        head = "<b>Output size</b> = (n + 2p − k) / s + 1" if p.dilation == 1 else \
            "<b>Output size</b> = (n + 2p − (d(k − 1) + 1)) / s + 1"
        if (height, kernel_h) == (width, kernel_w):
            body = f"each side: {rows}"
        else:
            body = f"height: {rows}<br>width: {cols}"
        self.formula_label.setText(f"{head}<br>{body}")
        return True

    def formula_text(self) -> str:
        return self.formula_label.text()

    def _emit(self) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        self.value_spin.setEnabled(self.mode_combo.currentData() == "constant")


__all__ = ["PAD_MODE_TITLES", "ConvParams", "ConvParamsEditor"]
