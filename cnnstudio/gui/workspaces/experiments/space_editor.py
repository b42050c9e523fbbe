"""The search-space editor: one row per dimension (training settings from the schema, layer parameters from
the registry), with its range, log scale, grid points or choices; Add and Remove.

It edits the document's "experiments" section through ``ctx.edit`` (undoable) and redraws from the
document only: a cell never keeps a value the document does not have (a bad one is refused with a
sentence and the row shows the document's value again).
"""

from __future__ import annotations

import json
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.search_space import Dimension, SearchSpace
from cnnstudio.gui.layout_check import ALLOW_HSCROLL

COLUMNS = ("Dimension", "Kind", "Low", "High", "Log", "Grid", "Choices")
TIPS = {
    "Dimension": "A training setting, or layer.parameter of the network",
    "Kind": "float and int sample a range; bool and choice pick one of the values",
    "Low": "The smallest value tried",
    "High": "The largest value tried",
    "Log": "Sample log-uniformly (equal chances for 0.001…0.01 and 0.01…0.1)",
    "Grid": "Grid search: how many evenly spaced values of this range it tries",
    "Choices": "The values tried, separated by commas",
}


class SpaceEditor(QWidget):
    """Table of the study's dimensions with Add (menu) and Remove."""

    space_edited = Signal(object)  # the new SearchSpace (the workspace writes it to the document)
    problem = Signal(str)  # a refused edit, as a sentence ("" clears)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._space = SearchSpace(())
        self._spec: dict = {}
        self._task = "classification"
        self._filling = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for i, name in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(i).setToolTip(TIPS[name])
        header = self.table.horizontalHeader()
        # every column as wide as its values (a long list of choices is never cut short); the table
        # scrolls sideways inside itself when they do not fit, as a spreadsheet does
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setProperty(ALLOW_HSCROLL, True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setToolTip("Double-click a cell to change a range; tick Log for a log scale")
        self.table.itemChanged.connect(self._item_changed)
        self.add_button = QToolButton()
        self.add_button.setText("Add dimension")
        self.add_button.setToolTip("Add a training setting or a layer parameter to the search")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected dimensions (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.size_label = QLabel("")
        self.size_label.setToolTip("How many combinations grid search tries")
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.size_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)

    # --- from the document ------------------------------------------------------------------------
    def set_space(self, space: SearchSpace, spec: dict) -> None:
        """Show ``space`` (never emits)."""
        self._space, self._spec = space, spec
        self._task = str(spec.get("task", "classification"))
        self._filling = True
        try:
            self.table.setRowCount(len(space))
            for row, dim in enumerate(space):
                self._fill_row(row, dim)
        finally:
            self._filling = False
        size = space.grid_size()
        self.size_label.setText(f"grid: {size:,} combinations" if size else "")

    @property
    def space(self) -> SearchSpace:
        return self._space

    def _fill_row(self, row: int, dim: Dimension) -> None:
        numeric = dim.kind in ("float", "int")
        fixed = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        editable = fixed | Qt.ItemFlag.ItemIsEditable

        def cell(col: int, text: str, can_edit: bool, tip: str = "") -> QTableWidgetItem:
            item = QTableWidgetItem(text)
            item.setFlags(editable if can_edit else fixed)
            if tip:
                item.setToolTip(tip)
            self.table.setItem(row, col, item)
            return item

        label = _label(dim)
        cell(0, dim.key, False, f"{label}: {dim.describe()}")
        cell(1, dim.kind, False)
        cell(2, _text(dim.low) if numeric else "", numeric)
        cell(3, _text(dim.high) if numeric else "", numeric)
        log = cell(4, "", False)
        if numeric:
            log.setFlags(fixed | Qt.ItemFlag.ItemIsUserCheckable)
            log.setCheckState(Qt.CheckState.Checked if dim.log else Qt.CheckState.Unchecked)
        cell(5, str(dim.grid) if numeric else str(len(dim.values)), numeric)
        cell(6, ", ".join(_text(v) for v in dim.values) if dim.kind == "choice" else
             ("false, true" if dim.kind == "bool" else ""), dim.kind == "choice")

    # --- edits ------------------------------------------------------------------------------------
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, col = item.row(), item.column()
        if not 0 <= row < len(self._space):
            return
        dim = self._space.dimensions[row]
        try:
            new = self._edited(dim, col, item)
            problem = new.problem() or next(iter(SearchSpace((new,)).problems(self._spec)), None)
            if problem:
                raise UserError(problem)
        except UserError as exc:
            self.problem.emit(str(exc))
            self.set_space(self._space, self._spec)  # back to the document's value
            return
        self.problem.emit("")
        if new != dim:
            self.space_edited.emit(self._space.with_dimension(new))

    def _edited(self, dim: Dimension, col: int, item: QTableWidgetItem) -> Dimension:
        text = item.text().strip()
        if col in (2, 3):
            value = _number(text, dim)
            return replace(dim, low=value) if col == 2 else replace(dim, high=value)
        if col == 4:
            return replace(dim, log=item.checkState() == Qt.CheckState.Checked)
        if col == 5:
            try:
                return replace(dim, grid=int(text))
            except ValueError:
                raise UserError(f"{dim.key}: the grid points must be a whole number, not {text!r}.") from None
        if col == 6:
            values = tuple(_parse(v) for v in text.split(",") if v.strip())
            return replace(dim, choices=values)
        return dim

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows:
            return
        keys = [self._space.dimensions[r].key for r in rows if r < len(self._space)]
        space = self._space
        for key in keys:
            space = space.without(key)
        self.space_edited.emit(space)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Delete and self.table.hasFocus():
            self.remove_selected()
            return
        super().keyPressEvent(event)

    def add_key(self, key: str) -> None:
        """Add the default dimension of ``lr`` or ``c1.out_channels``."""
        from cnnstudio.core.search_space import space_from_keys

        try:
            dim = space_from_keys(self._spec, [key]).dimensions[0]
        except UserError as exc:
            self.problem.emit(str(exc))
            return
        self.problem.emit("")
        self.space_edited.emit(self._space.with_dimension(dim))

    def _fill_add_menu(self) -> None:
        from cnnstudio.core.search_space import layer_candidates, searchable_training_settings
        from cnnstudio.core.train_settings import option

        self.add_menu.clear()
        taken = set(self._space.keys)
        training = self.add_menu.addMenu("Training setting")
        for name in searchable_training_settings(self._task):
            action = training.addAction(f"{option(name).label} ({name})")
            action.setEnabled(name not in taken)
            action.triggered.connect(lambda _c=False, k=name: self.add_key(k))
        layers = self.add_menu.addMenu("Layer parameter")
        by_layer: dict[str, list[str]] = {}
        for layer_id, param in layer_candidates(self._spec):
            by_layer.setdefault(layer_id, []).append(param)
        for layer_id, params in by_layer.items():
            sub = layers.addMenu(layer_id)
            for param in params:
                key = f"{layer_id}.{param}"
                action = sub.addAction(param)
                action.setEnabled(key not in taken)
                action.triggered.connect(lambda _c=False, k=key: self.add_key(k))
        layers.setEnabled(bool(by_layer))


def _label(dim: Dimension) -> str:
    if dim.target == "training":
        from cnnstudio.core.train_settings import option

        try:
            return option(dim.name).label
        except KeyError:
            return dim.name
    return f"{dim.name} of layer {dim.layer}"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(text: str, dim: Dimension) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{dim.key}: {text!r} is not a number.") from None
    if dim.kind == "int" and not value.is_integer():
        raise UserError(f"{dim.key} is a whole number: {text!r} is not one.")
    return value


def _parse(text: str):
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
