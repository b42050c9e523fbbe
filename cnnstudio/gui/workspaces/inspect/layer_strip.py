"""The layer strip: the network as a row of buttons (layer id, type and output shape) to pick a layer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QScrollArea, QToolButton, QWidget

from cnnstudio.gui.layout_check import ALLOW_HSCROLL
from cnnstudio.ml.inspect.features import TensorInfo


class LayerStrip(QScrollArea):
    """One checkable button per activation, left to right in network order. ``layer_chosen(name)``."""

    layer_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(72)
        self.setProperty(ALLOW_HSCROLL, True)  # a deep network's layers do not fit in one row: this strip scrolls
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(3)
        self.setWidget(self._inner)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QToolButton] = {}

    def set_layers(self, tensors: list[TensorInfo], labels: dict[str, str] | None = None) -> None:
        for button in self._buttons.values():
            self._group.removeButton(button)
            button.deleteLater()
        self._buttons.clear()
        while self._row.count():
            self._row.takeAt(0)
        labels = labels or {}
        for info in tensors:
            button = QToolButton()
            button.setCheckable(True)
            label = labels.get(info.name, info.name)
            short = label if len(label) <= 14 else "…" + label[-13:]
            button.setText(f"{short}\n{info.shape_text}")
            button.setToolTip(f"{info.name}\n{info.op}, output {info.shape_text}"
                              + ("" if info.spatial else "\n(not a spatial map: drawn as one strip)"))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumWidth(max(64, button.sizeHint().width()))
            button.clicked.connect(self._on_button_clicked)  # not a lambda holding this strip: see there
            self._group.addButton(button)
            self._row.addWidget(button)
            self._buttons[info.name] = button
        self._row.addStretch(1)

    def _on_button_clicked(self) -> None:
        # a bound method: a lambda holding this strip, freed in the destructor of a button that set_layers
        # let go (deleteLater), could drop the last reference to a parentless strip and delete it, and the
        # button again, inside that destructor (a crash)
        sender = self.sender()
        name = next((n for n, button in self._buttons.items() if button is sender), None)
        if name is not None:
            self.layer_chosen.emit(name)

    def set_current(self, name: str) -> None:
        button = self._buttons.get(name)
        if button is not None:
            button.setChecked(True)
            self.ensureWidgetVisible(button)

    def current(self) -> str:
        for name, button in self._buttons.items():
            if button.isChecked():
                return name
        return ""

    def names(self) -> list[str]:
        return list(self._buttons)

    def button(self, name: str) -> QToolButton:
        return self._buttons[name]
