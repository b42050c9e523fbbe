"""Choosing and configuring the data source: source, folder, numeric parameters.

The panel never keeps its own state: it shows the document's "data" dict and reports each user edit
as a complete new dict (``edited``), which the workspace pushes through ``ctx.edit`` (undoable).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.data_config import (
    CHANNEL_CHOICES,
    COMMON_FIELDS,
    FOLDER_SOURCES,
    SOURCE_FIELDS,
    SOURCES,
    TORCHVISION_SOURCES,
    NumberField,
    source_defaults,
)
from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.widgets.undo_keys import route_undo_keys

_PATH_HINTS = {
    "folder": "A folder with one sub-folder of images per class (cat/, dog/, …)",
    "yolo": "A folder with images/ and labels/ (YOLO .txt: class cx cy w h)",
    "coco": "A folder with images/ and annotations/instances.json (COCO boxes)",
}


class SourcePanel(QWidget):
    #: (new data dict, undo text, merge key or "")
    edited = Signal(dict, str, str)
    reload_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._config: dict = source_defaults("digits")
        self._shown_source = ""
        self._number_widgets: dict[str, QSpinBox | QDoubleSpinBox] = {}

        self.source_combo = QComboBox()
        for key, title in SOURCES.items():
            self.source_combo.addItem(title, key)
        self.source_combo.currentIndexChanged.connect(self._on_source_chosen)

        self.path_edit = QLineEdit()
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.editingFinished.connect(self._on_path_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        self.browse_button.setToolTip("Choose the dataset folder (you can also drop a folder on the window)")
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.path_row = QWidget()
        self.path_row.setLayout(path_row)
        self.path_hint = QLabel()
        self.path_hint.setWordWrap(True)
        self.path_hint.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")

        self.channels_combo = QComboBox()
        for choice in CHANNEL_CHOICES:
            self.channels_combo.addItem({"auto": "Automatic", "gray": "Gray (1)", "rgb": "RGB (3)"}[choice], choice)
        self.channels_combo.currentIndexChanged.connect(self._on_channels)
        self.download_check = QCheckBox("Download if missing")
        self.download_check.setToolTip("Fetch the dataset files from the internet when they are not in the folder.")
        self.download_check.toggled.connect(self._on_download)

        self.form = QFormLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(10)
        self.form_host = QWidget()
        self.form_host.setLayout(self.form)

        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read the dataset again (after files changed on disk) (F5)")
        self.reload_button.clicked.connect(self.reload_requested)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Dataset")
        title.setStyleSheet("font-weight: 600; font-size: 13px;")
        layout.addWidget(title)
        layout.addWidget(self.source_combo)
        layout.addWidget(self.path_row)
        layout.addWidget(self.path_hint)
        layout.addWidget(self.form_host)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reload_button)
        layout.addLayout(buttons)
        self.set_config(self._config)

    # --- model -> view ---------------------------------------------------------------------------
    def config(self) -> dict:
        return dict(self._config)

    def number_widget(self, name: str) -> QSpinBox | QDoubleSpinBox | None:
        """The spin box of a numeric setting of the current source (None if it has none)."""
        return self._number_widgets.get(name)

    def set_config(self, config: dict) -> None:
        """Show ``config`` (the document's data dict) without emitting edits."""
        self._config = dict(config)
        source = self._config.get("source", "digits")
        shown = {**source_defaults(source), **self._config} if source in SOURCES else self._config
        with QSignalBlocker(self.source_combo):
            index = self.source_combo.findData(source)
            self.source_combo.setCurrentIndex(max(0, index))
        if source != self._shown_source:
            self._rebuild_form(source)
        with QSignalBlocker(self.path_edit):
            self.path_edit.setText(str(shown.get("path", "")))
        for name, widget in self._number_widgets.items():
            with QSignalBlocker(widget):
                value = shown.get(name, 0)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    widget.setValue(int(value) if isinstance(widget, QSpinBox) else float(value))
        with QSignalBlocker(self.channels_combo):
            self.channels_combo.setCurrentIndex(max(0, self.channels_combo.findData(shown.get("channels", "auto"))))
        with QSignalBlocker(self.download_check):
            self.download_check.setChecked(bool(shown.get("download", False)))

    def _rebuild_form(self, source: str) -> None:
        self._shown_source = source
        while self.form.rowCount():
            row = self.form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                if item is not None and item.widget() is not None:
                    widget = item.widget()
                    if widget in (self.channels_combo, self.download_check):
                        widget.setParent(self)
                        widget.hide()
                    else:
                        widget.hide()
                        widget.deleteLater()
        self._number_widgets = {}
        for field in SOURCE_FIELDS.get(source, ()) + COMMON_FIELDS:
            if source in TORCHVISION_SOURCES and field.name == "val_fraction":
                continue  # the official test split is the validation set
            widget = self._number_widget(field)
            self._number_widgets[field.name] = widget
            label = QLabel(field.title)
            label.setToolTip(field.help)
            self.form.addRow(label, widget)
        if source in FOLDER_SOURCES:
            self.channels_combo.show()
            self.form.addRow("Channels", self.channels_combo)
        if source in TORCHVISION_SOURCES:
            self.download_check.show()
            self.form.addRow("", self.download_check)
        uses_path = source in FOLDER_SOURCES or source in TORCHVISION_SOURCES
        self.path_row.setVisible(uses_path)
        self.path_hint.setVisible(uses_path)
        if source in TORCHVISION_SOURCES:
            self.path_edit.setPlaceholderText("The app's datasets folder")
            self.path_hint.setText("The folder holding the dataset in torchvision's layout; empty = the app's own. "
                                   "The official test split is the validation set.")
        else:
            self.path_edit.setPlaceholderText("Choose a folder…")
            self.path_hint.setText(_PATH_HINTS.get(source, ""))

    def _number_widget(self, field: NumberField) -> QSpinBox | QDoubleSpinBox:
        if field.kind == "int":
            widget = QSpinBox()
            widget.setRange(int(field.minimum), int(field.maximum))
            if field.name == "max_samples":
                widget.setSpecialValueText("all")
                widget.setSingleStep(1000)
            elif field.name == "num_samples":
                widget.setSingleStep(500)
            elif field.name == "image_size":
                widget.setSingleStep(8)
                widget.setSuffix(" px")
        else:
            widget = HumanDoubleSpinBox()
            widget.setRange(field.minimum, field.maximum)
            widget.setDecimals(2)
            widget.setSingleStep(0.05)
        widget.setKeyboardTracking(False)  # one edit per Enter / focus change / arrow click
        route_undo_keys(widget)
        widget.setToolTip(field.help)
        widget.setObjectName(f"data_{field.name}")
        widget.valueChanged.connect(lambda value, f=field: self._emit({f.name: value}, f"Change {f.title.lower()}",
                                                                       f"data:{f.name}"))
        return widget

    # --- view -> model ---------------------------------------------------------------------------
    def _emit(self, changes: dict, text: str, merge_key: str = "") -> None:
        new = {**self._config, **changes}
        self.edited.emit(new, text, merge_key)

    def _on_source_chosen(self) -> None:
        source = self.source_combo.currentData()
        if source == self._config.get("source"):
            return
        self.edited.emit(self.config_for_source(source), "Change data source", "")

    def config_for_source(self, source: str, path: str | None = None) -> dict:
        """The data dict after switching to ``source``: its defaults, keeping seed, split and augmentation."""
        new = source_defaults(source)
        for key in ("seed", "val_fraction", "augment"):
            if key in self._config:
                new[key] = self._config[key]
        if path is not None:
            new["path"] = path
        elif (source in FOLDER_SOURCES) == (self._config.get("source") in FOLDER_SOURCES):
            new["path"] = self._config.get("path", "")
        return new

    def _on_path_edited(self) -> None:
        text = self.path_edit.text().strip()
        if text != self._config.get("path", ""):
            self._emit({"path": text}, "Change data folder")

    def _browse(self) -> None:
        start = self.path_edit.text().strip()
        folder = QFileDialog.getExistingDirectory(self, "Choose the dataset folder", start)
        if folder and folder != self._config.get("path", ""):
            self._emit({"path": folder}, "Change data folder")

    def _on_channels(self) -> None:
        self._emit({"channels": self.channels_combo.currentData()}, "Change image channels")

    def _on_download(self, checked: bool) -> None:
        self._emit({"download": bool(checked)}, "Allow download" if checked else "Forbid download")
