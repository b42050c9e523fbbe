"""The top bar: which model to inspect and which image to feed it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.gui.theme import set_tone

BUNDLED = ("bundled", "")
NETWORK = ("network", "")


class SourceBar(QWidget):
    """``model_chosen(kind, path)`` with kind "bundled" | "network" | "run" | "file";
    ``open_model_requested()``, ``open_image_requested()``, ``sample_chosen(index)``."""

    model_chosen = Signal(str, str)
    open_model_requested = Signal()
    open_image_requested = Signal()
    snapshot_requested = Signal()
    sample_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = QComboBox()
        self.model.setMinimumContentsLength(24)
        self.model.setToolTip("The model to look inside: the bundled digits model, the project's network, "
                              "a training run of this project, or an ONNX file")
        self.open_model = QPushButton("Open Model…")
        self.open_model.setToolTip("Open an ONNX image model (ours or any other tool's), a spec file or a run folder's spec.json")
        self.open_image = QPushButton("Open Image…")
        self.open_image.setToolTip("Feed an image file to the model (or drop one on the window)")
        self.camera = QPushButton("Camera")
        self.camera.setToolTip("Take one snapshot from the webcam (camera 0) as the input")
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setPrefix("sample ")
        self.sample.setToolTip("A validation sample of the project's dataset")
        self.sample.setKeyboardTracking(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        column.addLayout(row)
        column.addWidget(self.status)
        row.addWidget(QLabel("Model:"))
        row.addWidget(self.model)
        row.addWidget(self.open_model)
        row.addSpacing(12)
        row.addWidget(QLabel("Input:"))
        row.addWidget(self.open_image)
        row.addWidget(self.camera)
        row.addWidget(self.sample)
        row.addStretch(1)
        self.model.activated.connect(self._on_model)
        self.open_model.clicked.connect(self.open_model_requested)
        self.open_image.clicked.connect(self.open_image_requested)
        self.camera.clicked.connect(self.snapshot_requested)
        self.sample.valueChanged.connect(self.sample_chosen)

    def set_runs(self, runs: list[tuple[str, str]], extra_files: list[str], current: tuple[str, str]) -> None:
        """Refill the model list: bundled, network, each (title, path) run, opened files; select ``current``."""
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItem("Bundled LeNet-5 (digits)", _key(BUNDLED))
        self.model.addItem("Project network (untrained)", _key(NETWORK))
        for title, path in runs:
            self.model.addItem(f"Run: {title}", _key(("run", path)))
            self.model.setItemData(self.model.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        for path in extra_files:
            self.model.addItem(f"File: {Path(path).name}", _key(("file", path)))
            self.model.setItemData(self.model.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        index = self.model.findData(_key(current))
        self.model.setCurrentIndex(max(0, index))
        self.model.blockSignals(False)

    def current_source(self) -> tuple[str, str]:
        data = self.model.currentData()
        if not data:
            return BUNDLED
        kind, _sep, path = str(data).partition("|")
        return (kind, path)

    def set_sample_count(self, count: int) -> None:
        self.sample.blockSignals(True)
        self.sample.setRange(0, max(0, count - 1))
        self.sample.setEnabled(count > 0)
        self.sample.setSuffix(f" of {count}" if count else " (no dataset)")
        self.sample.blockSignals(False)

    def set_sample(self, index: int) -> None:
        self.sample.blockSignals(True)
        self.sample.setValue(index)
        self.sample.blockSignals(False)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)
        set_tone(self.status, "error" if error else None)

    def _on_model(self, _index: int) -> None:
        kind, path = self.current_source()
        self.model_chosen.emit(kind, path)


def _key(source: tuple[str, str]) -> str:
    return f"{source[0]}|{source[1]}"
