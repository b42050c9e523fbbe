"""The property editor: a form generated from the selected layer's ParamSpec schema.

The form is rebuilt only when the selection moves to a layer of another id or type; otherwise the
editors' values are refreshed in place with their signals quiet, so the document stays the only
source of truth and a refresh never edits it back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.registry import LAYER_TYPES, format_shape, formula
from cnnstudio.core.spec import LAYER_ID_PATTERN, fill_layer_defaults
from cnnstudio.gui.workspaces.designer.editors import ParamEditor, make_editor, param_label
from cnnstudio.gui.workspaces.designer.icons import layer_pixmap


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def _range_hint(spec) -> str:
    if spec.kind in ("bool", "choice"):
        return ""
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        return f"Range {lo:g} to {hi:g}."
    if lo is not None:
        return f"At least {lo:g}."
    return ""


class PropertiesPanel(QScrollArea):
    """Edits one layer (or freezes several). Emits requests; the workspace turns them into edits."""

    param_edited = Signal(str, str, object)  # layer id, parameter name, value
    trainable_edited = Signal(list, bool)  # layer ids, trainable
    rename_requested = Signal(str, str)  # old id, new id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(8)

        header = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setFixedSize(28, 28)
        self.title = QLabel("No layer selected")
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        header.addWidget(self.icon)
        header.addWidget(self.title, 1)
        outer.addLayout(header)

        self.help = QLabel("Select a block in the stack to edit it, or drag a layer from the palette.")
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.PlainText)
        self.help.setStyleSheet("color: palette(placeholder-text);")
        outer.addWidget(self.help)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(
            "QLabel { color: #b71c1c; background: #ffebee; border: 1px solid #e57373; border-radius: 4px; padding: 6px; }"
        )
        self.error.hide()
        outer.addWidget(self.error)

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.id_edit: QLineEdit | None = None
        self.frozen = QCheckBox("Frozen (keep the weights fixed while training)")
        self.frozen.setToolTip(
            "Transfer learning: a frozen layer keeps its weights (requires_grad = False); "
            "its parameters count as frozen in the footer."
        )
        self.frozen.toggled.connect(self._frozen_toggled)

        self.shapes = QLabel()
        self.shapes.setWordWrap(True)
        self.shapes.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.shapes)

        self.formula_title = QLabel("<b>Output size</b>")
        outer.addWidget(self.formula_title)
        self.formula = QLabel()
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula.setWordWrap(True)
        self.formula.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.formula.setStyleSheet(
            "QLabel { background: palette(alternate-base); border: 1px solid palette(mid); border-radius: 4px;"
            " padding: 6px; }"
        )
        outer.addWidget(self.formula)
        outer.addWidget(self.form_host)
        outer.addWidget(self.frozen)
        outer.addStretch(1)

        self._ids: list[str] = []
        self._layer_key: tuple[str, str] | None = None
        self._editors: dict[str, ParamEditor] = {}
        self._updating = False
        self.show_layers([], {}, {})

    # --- public --------------------------------------------------------------------------------
    def editors(self) -> dict[str, ParamEditor]:
        return dict(self._editors)

    def current_id(self) -> str | None:
        return self._ids[0] if len(self._ids) == 1 else None

    def show_layers(self, ids: list[str], layers: dict[str, dict], infos: dict[str, Any]) -> None:
        """Show the layers ``ids`` (dicts by id) with their inference results ``infos`` (by id)."""
        self._updating = True
        try:
            self._ids = [i for i in ids if i in layers]
            if len(self._ids) == 1:
                layer_id = self._ids[0]
                self._show_one(layer_id, layers[layer_id], infos.get(layer_id))
            else:
                self._show_many([layers[i] for i in self._ids])
        finally:
            self._updating = False

    # --- one layer -----------------------------------------------------------------------------
    def _show_one(self, layer_id: str, layer: dict, info: Any) -> None:
        type_name = str(layer.get("type"))
        layer_type = LAYER_TYPES.get(type_name)
        key = (layer_id, type_name)
        if key != self._layer_key:
            self._build_form(layer, layer_type)
            self._layer_key = key
        filled = fill_layer_defaults(layer) if layer_type is not None else dict(layer)
        for name, editor in self._editors.items():
            editor.set_value(filled.get(name))
        shown_id = layer.get("id") if isinstance(layer.get("id"), str) else ""
        if self.id_edit is not None and self.id_edit.text() != shown_id and not self.id_edit.hasFocus():
            self.id_edit.setText(shown_id)
        self.frozen.setEnabled(True)
        self.frozen.setChecked(not filled.get("trainable", True))
        title = layer_type.title if layer_type else type_name
        _set_text(self.title, f"{layer_id}  ·  {title}")
        if layer_type is not None:
            self.icon.setPixmap(layer_pixmap(layer_type.category, type_name, 28))
        full_help = layer_type.help if layer_type else f"Unknown layer type {type_name!r}."
        first = full_help.split(". ")[0].rstrip(".") + "."
        _set_text(self.help, first)
        self.help.setToolTip(full_help)
        error = getattr(info, "error", None)
        _set_text(self.error, f"⚠ {error}" if error else "")
        self.error.setVisible(bool(error))
        self._show_numbers(layer, info, layer_type)

    def _build_form(self, layer: dict, layer_type) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        self.id_edit = QLineEdit()
        self.id_edit.setToolTip(
            "The layer's id: names its weights, its feature maps and the module in exports."
        )
        id_label = QLabel("Id")
        id_label.setToolTip(self.id_edit.toolTip())
        self.id_edit.editingFinished.connect(self._rename)
        self.form.addRow(id_label, self.id_edit)
        if layer_type is None:
            return
        for spec in layer_type.params:
            editor = make_editor(spec)
            tip = f"<b>{spec.name}</b> ({spec.kind}, default {spec.default!r})<br>{spec.help} {_range_hint(spec)}"
            label = QLabel(param_label(spec.name))
            label.setToolTip(tip)
            editor.setToolTip(tip)
            editor.setWhatsThis(tip)
            self.form.addRow(label, editor)
            if isinstance(editor, ParamEditor):
                editor.edited.connect(lambda value, n=spec.name: self._param_edited(n, value))
                self._editors[spec.name] = editor
        if not layer_type.params:
            note = QLabel("This layer has no settings.")
            note.setStyleSheet("color: palette(placeholder-text);")
            self.form.addRow(note)

    def _show_numbers(self, layer: dict, info: Any, layer_type) -> None:
        if info is None:
            _set_text(self.shapes, "")
            _set_text(self.formula, "")
            return
        inp, out = info.input_shape, info.output_shape
        params = f"{info.params:,} parameters"
        if info.params:
            params += f" ({info.weights:,} weights + {info.biases:,} biases)"
        state = "" if info.trainable else " — <i>frozen</i>"
        _set_text(
            self.shapes,
            f"<b>Input</b> {format_shape(inp)} &nbsp;→&nbsp; <b>Output</b> {format_shape(out)}<br>"
            f"{params}{state}<br>{info.mult_adds:,} mult-adds",
        )
        if layer_type is not None:
            try:
                text = formula(fill_layer_defaults(layer), inp)
            except (KeyError, TypeError, ValueError):
                text = ""
            _set_text(self.formula, text)
            self.formula.setVisible(bool(text))
            self.formula_title.setVisible(bool(text))

    # --- several layers ------------------------------------------------------------------------
    def _show_many(self, layers: list[dict]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._editors = {}
        self.id_edit = None
        self._layer_key = None
        self.icon.clear()
        self.error.hide()
        _set_text(self.shapes, "")
        _set_text(self.formula, "")
        self.formula.hide()
        self.formula_title.hide()
        if not layers:
            _set_text(self.title, "No layer selected")
            _set_text(
                self.help,
                "Select a block in the stack to edit it, or drag a layer from the palette onto the stack.",
            )
            self.frozen.setEnabled(False)
            self.frozen.setChecked(False)
            return
        _set_text(self.title, f"{len(layers)} layers selected")
        _set_text(self.help, "Freeze or unfreeze them together, or select one block to edit its parameters.")
        self.frozen.setEnabled(True)
        self.frozen.setChecked(all(not layer.get("trainable", True) for layer in layers))

    # --- user edits ----------------------------------------------------------------------------
    def _param_edited(self, name: str, value: Any) -> None:
        if not self._updating and len(self._ids) == 1:
            self.param_edited.emit(self._ids[0], name, value)

    def _frozen_toggled(self, frozen: bool) -> None:
        if not self._updating and self._ids:
            self.trainable_edited.emit(list(self._ids), not frozen)

    def _rename(self) -> None:
        if self._updating or len(self._ids) != 1 or self.id_edit is None:
            return
        new = self.id_edit.text().strip()
        old = self._ids[0]
        if new and new != old:
            # after this signal returns: the rename rebuilds the form, deleting the line edit sending it
            QTimer.singleShot(0, lambda: self.rename_requested.emit(old, new))

    @staticmethod
    def id_problem(new_id: str, taken: list[str]) -> str | None:
        """Why ``new_id`` cannot be a layer id, or None."""
        if not LAYER_ID_PATTERN.match(new_id):
            return f"“{new_id}” is not a valid id: use letters, digits, '_' and '-', starting with a letter."
        if new_id in taken:
            return f"Another layer is already called “{new_id}”."
        return None
