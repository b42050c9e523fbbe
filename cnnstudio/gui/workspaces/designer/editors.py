"""One editor widget per ParamSpec kind; each emits ``edited(value)`` only for user changes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QWidget,
)

from cnnstudio.core.registry import ParamSpec
from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.widgets.undo_keys import route_undo_keys

INT_LIMIT = 2**31 - 1


def _int_spin(spec: ParamSpec) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(
        int(spec.minimum) if spec.minimum is not None else -INT_LIMIT,
        int(spec.maximum) if spec.maximum is not None else INT_LIMIT,
    )
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    spin.setMinimumWidth(44)
    route_undo_keys(spin)
    return spin


class ParamEditor(QWidget):
    """Base: ``set_value`` never emits; user edits emit ``edited`` with a spec-ready value."""

    edited = Signal(object)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._setting = False

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            self._show(value)
        finally:
            self._setting = False

    def _emit(self, *_args) -> None:
        if not self._setting:
            self.edited.emit(self.value())

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.spin = _int_spin(spec)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.spin.setValue(
            int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        )

    def value(self) -> int:
        return self.spin.value()


class FloatEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.spin = HumanDoubleSpinBox()  # 0.5, not 0.500000
        self.spin.setDecimals(6)
        self.spin.setRange(
            spec.minimum if spec.minimum is not None else -1e9,
            spec.maximum if spec.maximum is not None else 1e9,
        )
        self.spin.setSingleStep(0.05 if (spec.maximum or 0) <= 1 else 1.0)
        self.spin.setKeyboardTracking(False)
        route_undo_keys(self.spin)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.spin.setValue(float(value) if isinstance(value, (int, float)) else 0.0)

    def value(self) -> float:
        return float(self.spin.value())


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.check = QCheckBox()
        self._layout.addWidget(self.check)
        self._layout.addStretch(1)
        self.check.toggled.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.check.setChecked(bool(value))

    def value(self) -> bool:
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.combo = QComboBox()
        for choice in spec.choices:
            self.combo.addItem(str(choice), choice)
        self._layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        index = self.combo.findData(value)
        self.combo.setCurrentIndex(max(0, index))

    def value(self) -> Any:
        return self.combo.currentData()


class PairEditor(ParamEditor):
    """Height and width spin boxes; linked (one number) unless the link is switched off."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.height_spin = _int_spin(spec)
        self.width_spin = _int_spin(spec)
        self.height_spin.setToolTip("height")
        self.width_spin.setToolTip("width")
        self.link = QToolButton()
        self.link.setText("=")
        self.link.setCheckable(True)
        self.link.setChecked(True)
        self.link.setToolTip(
            "Linked: height and width are the same number. Unlink for a [height, width] pair."
        )
        self._layout.addWidget(self.height_spin, 1)
        self._layout.addWidget(self.link)
        self._layout.addWidget(self.width_spin, 1)
        self.height_spin.valueChanged.connect(self._height_changed)
        self.width_spin.valueChanged.connect(self._width_changed)
        self.link.toggled.connect(self._link_toggled)

    def _height_changed(self, value: int) -> None:
        if self.link.isChecked() and self.width_spin.value() != value:
            self.width_spin.blockSignals(True)
            self.width_spin.setValue(value)
            self.width_spin.blockSignals(False)
        self._emit()

    def _width_changed(self, value: int) -> None:
        if self.link.isChecked() and self.height_spin.value() != value:
            self.height_spin.blockSignals(True)
            self.height_spin.setValue(value)
            self.height_spin.blockSignals(False)
        self._emit()

    def _link_toggled(self, linked: bool) -> None:
        self.link.setText("=" if linked else "≠")
        if linked and self.height_spin.value() != self.width_spin.value():
            self.width_spin.blockSignals(True)
            self.width_spin.setValue(self.height_spin.value())
            self.width_spin.blockSignals(False)
            self._emit()

    def _show(self, value: Any) -> None:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            h, w = value
            self.link.setChecked(h == w)
        else:
            h = w = value
            self.link.setChecked(True)
        for spin, v in ((self.height_spin, h), (self.width_spin, w)):
            spin.blockSignals(True)
            spin.setValue(
                int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else spin.minimum()
            )
            spin.blockSignals(False)

    def value(self) -> int | list[int]:
        h, w = self.height_spin.value(), self.width_spin.value()
        return h if h == w else [h, w]


class PaddingEditor(PairEditor):
    """A number / pair, or the words "same" / "valid"."""

    MODES = (("number", "pixels"), ("same", "same"), ("valid", "valid"))

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None):
        super().__init__(spec, parent)
        self.mode = QComboBox()
        for key, label in self.MODES:
            self.mode.addItem(label, key)
        self.mode.setToolTip(
            "pixels: a number (or height, width) per side; same: keep the size (stride 1); valid: no padding"
        )
        self._layout.insertWidget(0, self.mode)
        self.mode.currentIndexChanged.connect(self._mode_changed)

    def _mode_changed(self, *_args) -> None:
        numeric = self.mode.currentData() == "number"
        for widget in (self.height_spin, self.width_spin, self.link):
            widget.setEnabled(numeric)
        self._emit()

    def _show(self, value: Any) -> None:
        word = value if value in ("same", "valid") else "number"
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData(word))
        self.mode.blockSignals(False)
        super()._show(0 if word != "number" else value)
        for widget in (self.height_spin, self.width_spin, self.link):
            widget.setEnabled(word == "number")

    def value(self) -> Any:
        mode = self.mode.currentData()
        return mode if mode != "number" else super().value()


EDITORS: dict[str, type[ParamEditor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "int_or_pair": PairEditor,
    "padding": PaddingEditor,
}


def make_editor(spec: ParamSpec, parent: QWidget | None = None) -> QWidget:
    """The editor for ``spec``'s kind (a read-only label for a kind this build does not know)."""
    editor_class = EDITORS.get(spec.kind)
    if editor_class is None:
        return QLabel(f"({spec.kind} values are edited in the spec file)", parent)
    return editor_class(spec, parent)


def param_label(name: str) -> str:
    """``out_channels`` as ``Out channels``."""
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]
