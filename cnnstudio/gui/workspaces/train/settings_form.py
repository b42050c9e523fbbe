"""The training settings form, generated from the settings schema and bound to the project's "training"
section (every edit is undoable).

One row per :data:`cnnstudio.core.train_settings.OPTIONS` entry, grouped by ``Option.group``, with the
option's label, range, tooltip and, for log-scale options, spin steps by factors; rows of options that the
network's task does not use (the box loss of a classifier) are hidden. :data:`EDITORS` maps an option kind
to its widget, as the Designer's property editors do for layer parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from cnnstudio.core import train_settings
from cnnstudio.core.train_settings import Option
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.widgets.undo_keys import route_undo_keys

INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e9


def _next_125(value: float, up: bool, smallest: float) -> float:
    """The neighbour of ``value`` on the 1-2-5 grid (..., 0.001, 0.002, 0.005, 0.01, ...)."""
    if value < smallest:
        return smallest if up else value
    exponent = math.floor(math.log10(value))
    grid = sorted(m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5))
    if up:
        return next(g for g in grid if g > value * (1 + 1e-9))
    below = [g for g in grid if g < value * (1 - 1e-9)]
    return below[-1] if below and below[-1] >= smallest else 0.0


class LogDoubleSpinBox(HumanDoubleSpinBox):
    """Steps along 1, 2, 5, 10, 20, ... (the arrows, the wheel and Page Up/Down), clamped to the range."""

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt's name
        value, smallest = self.value(), 10.0 ** -self.decimals()
        for _ in range(abs(steps)):
            value = _next_125(value, steps > 0, smallest)
        self.setValue(max(self.minimum(), min(self.maximum(), value)))


class LogSpinBox(QSpinBox):
    """Steps along the powers of two (8, 16, 32, ...), clamped to the range."""

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt's name
        value = self.value()
        for _ in range(abs(steps)):
            power = 2 ** math.floor(math.log2(value)) if value >= 1 else 0
            value = (max(1, power * 2) if steps > 0 else (power // 2 if power == value else power))
        self.setValue(max(self.minimum(), min(self.maximum(), value)))


def _spin_range(opt: Option, resolution: float, limit: float) -> tuple[float, float]:
    low = -limit if opt.minimum is None else opt.minimum + (resolution if opt.exclusive_minimum else 0)
    high = limit if opt.maximum is None else opt.maximum - (resolution if opt.exclusive_maximum else 0)
    return low, high


def _common(spin: QAbstractSpinBox, opt: Option) -> None:
    spin.setKeyboardTracking(False)
    if opt.special:
        spin.setSpecialValueText(opt.special)  # shown for the minimum
    if opt.unit:
        spin.setSuffix(f" {opt.unit}")
    route_undo_keys(spin)


def _float_editor(opt: Option) -> QDoubleSpinBox:
    spin = LogDoubleSpinBox() if opt.log else HumanDoubleSpinBox()  # 0.002, not 0.002000
    spin.setDecimals(6 if opt.log else 3)
    spin.setRange(*_spin_range(opt, 10.0 ** -spin.decimals(), FLOAT_LIMIT))
    if not opt.log:
        spin.setSingleStep(0.01 if opt.maximum is not None and opt.maximum <= 1 else 0.5)
    _common(spin, opt)
    return spin


def _int_editor(opt: Option) -> QSpinBox:
    spin = LogSpinBox() if opt.log else QSpinBox()
    low, high = _spin_range(opt, 1, INT_LIMIT)
    spin.setRange(int(max(low, -INT_LIMIT)), int(min(high, INT_LIMIT)))
    _common(spin, opt)
    return spin


def _choice_editor(opt: Option) -> QComboBox:
    combo = QComboBox()
    for value, title in (opt.choices or {}).items():
        combo.addItem(title, value)
    return combo


@dataclass(frozen=True)
class KindEditor:
    """How one option kind is edited: a widget factory, its reader, its (silent) writer, its change signal."""

    make: Callable[[Option], QWidget]
    read: Callable[[Any], Any]
    write: Callable[[Any, Any], None]
    signal: str


def _select(combo: QComboBox, value: Any) -> None:
    combo.setCurrentIndex(max(0, combo.findData(value)))


EDITORS: dict[str, KindEditor] = {
    "float": KindEditor(_float_editor, lambda w: float(w.value()), lambda w, v: w.setValue(float(v)), "valueChanged"),
    "int": KindEditor(_int_editor, lambda w: int(w.value()), lambda w, v: w.setValue(int(v)), "valueChanged"),
    "bool": KindEditor(lambda _opt: QCheckBox(), lambda w: w.isChecked(), lambda w, v: w.setChecked(bool(v)),
                       "toggled"),
    "choice": KindEditor(_choice_editor, lambda w: w.currentData(), _select, "currentIndexChanged"),
}


class TrainingSettingsForm(QWidget):
    """One row per training option; ``widgets[name]`` (also ``form.<name>``) is the option's editor."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.options = {opt.name: opt for opt in train_settings.OPTIONS}
        self.task: str | None = None
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.widgets: dict[str, QWidget] = {}
        self.headings: dict[str, QLabel] = {}
        groups: dict[str, list[Option]] = {}
        for opt in self.options.values():
            groups.setdefault(opt.group, []).append(opt)
        for group, options in groups.items():
            heading = QLabel(f"<b>{group}</b>")
            self.headings[group] = heading
            self.layout_.addRow(heading)
            for opt in options:
                self._add_row(opt)
        self.sync_from_document()

    def _add_row(self, opt: Option) -> None:
        editor = EDITORS[opt.kind]
        widget = editor.make(opt)
        tip = f"{opt.help} (default {opt.default_text})"
        widget.setToolTip(tip)
        label = QLabel(opt.label)
        label.setToolTip(tip)
        label.setBuddy(widget)
        self.layout_.addRow(label, widget)
        self.widgets[opt.name] = widget
        if not hasattr(QWidget, opt.name):  # form.lr, form.epochs, ... (never shadowing a Qt method)
            setattr(self, opt.name, widget)
        getattr(widget, editor.signal).connect(lambda *_a, k=opt.name: self._edited(k))

    def value_of(self, key: str):
        return EDITORS[self.options[key].kind].read(self.widgets[key])

    # --- model <-> view ---------------------------------------------------------------------------
    def _edited(self, key: str) -> None:
        training = self.ctx.document.get("training")
        value = self.value_of(key)
        if training.get(key) == value:
            return
        training[key] = value
        self.ctx.edit("training", training, f"Change {self.options[key].label.lower()}",
                      merge_key=f"training.{key}")

    def sync_from_document(self) -> None:
        """Show the document's values (the schema's default for a missing one) without echoing edits back,
        and only the rows the network's task uses."""
        training = self.ctx.document.get("training")
        for key, widget in self.widgets.items():
            opt = self.options[key]
            widget.blockSignals(True)
            try:
                EDITORS[opt.kind].write(widget, training.get(key, opt.default))
            except (TypeError, ValueError):
                EDITORS[opt.kind].write(widget, opt.default)
            finally:
                widget.blockSignals(False)
        self.set_task(self.ctx.document.get("network").get("task") or "classification")

    def set_task(self, task: str) -> None:
        """Show the rows of the options ``task`` uses; a section with none of them hides its heading."""
        self.task = task
        shown_groups = set()
        for key, widget in self.widgets.items():
            opt = self.options[key]
            visible = opt.applies_to(task)
            self.layout_.setRowVisible(widget, visible)
            if visible:
                shown_groups.add(opt.group)
        for group, heading in self.headings.items():
            self.layout_.setRowVisible(heading, group in shown_groups)

    def set_running(self, running: bool) -> None:
        for widget in self.widgets.values():
            widget.setEnabled(not running)
