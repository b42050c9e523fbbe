"""Network-wide settings: name, input channels/height/width, task, class names and the box head."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core import spec_edit
from cnnstudio.core.registry import describe, format_shape
from cnnstudio.gui.widgets.undo_keys import route_undo_keys

#: an edit request: a pure function from the current spec to the new one, its undo text and merge key
EditFn = Callable[[dict], dict]


def _spin(tip: str, maximum: int = 4096) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(1, maximum)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tip)
    route_undo_keys(spin)
    return spin


def _split_classes(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class NetworkSettings(QScrollArea):
    """Emits ``edit_requested(fn, text, merge_key)``; the workspace applies ``fn`` to the document's spec."""

    edit_requested = Signal(object, str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(form)

        self.name = QLineEdit()
        self.name.setToolTip("The network's name (shown in exports and run lists)")
        form.addRow("Name", self.name)
        self.channels = _spin("Input channels: 1 for grayscale images, 3 for RGB", 64)
        self.height = _spin("Input height in pixels; images are resized to it")
        self.width = _spin("Input width in pixels; images are resized to it")
        form.addRow("Input channels", self.channels)
        form.addRow("Input height", self.height)
        form.addRow("Input width", self.width)
        from cnnstudio.core.tasks import all_tasks

        self.task = QComboBox()
        for kind in all_tasks():  # the task registry: its labels and help
            self.task.addItem(kind.label, kind.name)
        self.task.setToolTip(" ".join(kind.help for kind in all_tasks()))
        form.addRow("Task", self.task)
        self.classes = QLineEdit()
        self.classes.setToolTip(
            "Class names separated by commas; the last layer must output one score per class"
        )
        self.classes.setPlaceholderText("cat, dog, bird")
        form.addRow("Classes", self.classes)
        self.class_count = QLabel()
        self.class_count.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", self.class_count)

        self.head_box = QGroupBox("Box head (localization)")
        head_form = QFormLayout(self.head_box)
        self.head_from = QComboBox()
        self.head_from.setToolTip("The trunk layer whose output feeds the box head")
        self.head_hidden = QSpinBox()
        self.head_hidden.setRange(0, 4096)
        self.head_hidden.setKeyboardTracking(False)
        self.head_hidden.setSpecialValueText("none")
        route_undo_keys(self.head_hidden)
        self.head_hidden.setToolTip(
            "Units of an optional hidden dense layer (with ReLU) before the 4 box outputs"
        )
        self.head_layers = QLabel()
        self.head_layers.setWordWrap(True)
        head_form.addRow("Branches from", self.head_from)
        head_form.addRow("Hidden units", self.head_hidden)
        head_form.addRow("Layers", self.head_layers)
        layout.addWidget(self.head_box)
        layout.addStretch(1)

        self._updating = False
        self.name.editingFinished.connect(
            lambda: self._request(
                lambda s: spec_edit.set_field(s, "name", self.name.text().strip()), "Rename network"
            )
        )
        self.channels.valueChanged.connect(
            lambda v: self._request(
                lambda s: spec_edit.set_input(s, channels=v), "Set input channels", "input:c"
            )
        )
        self.height.valueChanged.connect(
            lambda v: self._request(lambda s: spec_edit.set_input(s, height=v), "Set input height", "input:h")
        )
        self.width.valueChanged.connect(
            lambda v: self._request(lambda s: spec_edit.set_input(s, width=v), "Set input width", "input:w")
        )
        self.task.currentIndexChanged.connect(
            lambda _i: self._request(lambda s: spec_edit.set_task(s, self.task.currentData()), "Set task")
        )
        self.classes.editingFinished.connect(
            lambda: self._request(
                lambda s: spec_edit.set_classes(s, _split_classes(self.classes.text())), "Set class names"
            )
        )
        self.head_from.currentIndexChanged.connect(lambda _i: self._head_changed())
        self.head_hidden.valueChanged.connect(lambda _v: self._head_changed())

    def _request(self, fn: EditFn, text: str, merge_key: str = "") -> None:
        if not self._updating:
            self.edit_requested.emit(fn, text, merge_key)

    def _head_changed(self) -> None:
        index = self.head_from.currentIndex()
        if index < 0:  # currentData() of no item is an invalid QVariant (PySide6 miscounts None)
            return
        source = self.head_from.itemData(index)
        if source:
            hidden = self.head_hidden.value()
            self._request(lambda s: spec_edit.set_box_head(s, source, hidden), "Change box head")

    def show_spec(self, spec: dict, summary) -> None:
        """Show ``spec`` without emitting edits."""
        self._updating = True
        try:
            if not self.name.hasFocus():
                self.name.setText(str(spec.get("name", "")))
            shape = spec.get("input") or {}
            for spin, key in ((self.channels, "channels"), (self.height, "height"), (self.width, "width")):
                value = shape.get(key)
                if isinstance(value, int) and spin.value() != value:
                    spin.setValue(value)
            task = spec.get("task", "classification")
            self.task.setCurrentIndex(max(0, self.task.findData(task)))
            classes = [str(c) for c in spec.get("classes", []) if isinstance(c, str)]
            if not self.classes.hasFocus():
                self.classes.setText(", ".join(classes))
            out = summary.output_shape
            expected = f"; the network outputs {format_shape(out)}" if out is not None else ""
            self.class_count.setText(f"{len(classes)} classes{expected}")
            self._show_head(spec, summary, _task_head(task) == "box_head")
        finally:
            self._updating = False

    def _show_head(self, spec: dict, summary, enabled: bool) -> None:
        self.head_box.setEnabled(enabled)
        head = spec.get("box_head") if isinstance(spec.get("box_head"), dict) else {}
        ids = [str(layer.get("id")) for layer in spec.get("layers", [])]
        if [self.head_from.itemData(i) for i in range(self.head_from.count())] != ids:
            self.head_from.clear()
            for layer_id in ids:
                self.head_from.addItem(layer_id, layer_id)
        self.head_from.setCurrentIndex(self.head_from.findData(str(head.get("from", ""))))
        layers = head.get("layers", []) if isinstance(head.get("layers"), list) else []
        hidden = [layer.get("out_features") for layer in layers if layer.get("type") == "linear"][:-1]
        self.head_hidden.setValue(int(hidden[0]) if hidden and isinstance(hidden[0], int) else 0)
        if not enabled:
            self.head_layers.setText("Set the task to localization to add a box head.")
            return
        infos = {info.id: info for info in (summary.box_head.layers if summary.box_head else [])}
        lines = []
        for layer in layers:
            info = infos.get(layer.get("id"))
            shape = format_shape(info.output_shape) if info else "?"
            text = f"{layer.get('id')}: {describe(layer)} → {shape}"
            if info is not None and info.error:
                text = f"<span style='color:#c62828'>{text}<br>{info.error}</span>"
            lines.append(text)
        self.head_layers.setText(
            "<br>".join(lines) + "<br><i>The builder adds a sigmoid so boxes lie in [0, 1].</i>"
        )


def _task_head(task: str) -> str | None:
    """The spec entry of the task's head (the task registry; localization: "box_head")."""
    from cnnstudio.core.tasks import get_task, is_task

    return get_task(task).head_key if is_task(task) else None
