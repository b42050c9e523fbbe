"""Augmentation settings and a live preview: each row is one image, then augmented copies of it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.data_config import AUGMENT_FIELDS, augment_defaults
from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.widgets.undo_keys import route_undo_keys
from cnnstudio.gui.workspaces.data.thumbnails import thumbnail

_COLOUR_ONLY = ("saturation", "hue")


class Mosaic(QWidget):
    """Paints a grid of pixmaps scaled to fit, with column titles; one paint, no child widgets."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pixmaps: list[list[QPixmap]] = []
        self._titles: list[str] = []
        self.message = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(520, 480)

    def set_cells(self, cells: np.ndarray, boxes: np.ndarray | None, titles: list[str]) -> None:
        """``cells`` uint8 (rows, cols, H, W, 3); ``boxes`` (rows, cols, 4) or None."""
        self.message = ""
        self._titles = titles
        self._pixmaps = [
            [thumbnail(cells[r, c], 128, None if boxes is None else boxes[r, c]) for c in range(cells.shape[1])]
            for r in range(cells.shape[0])
        ]
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self._pixmaps = []
        self.update()

    def cell_count(self) -> int:
        return sum(len(row) for row in self._pixmaps)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self._pixmaps:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        rows, cols = len(self._pixmaps), len(self._pixmaps[0])
        header, gap = 20, 6
        cell = min((self.width() - gap * (cols + 1)) / cols, (self.height() - header - gap * (rows + 1)) / rows)
        cell = max(8.0, cell)
        left = (self.width() - (cols * cell + (cols - 1) * gap)) / 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, cell < 128)
        painter.setPen(self.palette().text().color())
        for c, title in enumerate(self._titles[:cols]):
            painter.drawText(QRectF(left + c * (cell + gap), 0, cell, header), Qt.AlignmentFlag.AlignCenter, title)
        for r, row in enumerate(self._pixmaps):
            for c, pixmap in enumerate(row):
                target = QRectF(left + c * (cell + gap), header + gap + r * (cell + gap), cell, cell)
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
                if c == 0:
                    painter.setPen(QColor("#3d7edb"))
                    painter.drawRect(target.adjusted(-1, -1, 1, 1))


class AugmentPanel(QWidget):
    """Spin boxes for every augmentation; edits are reported as a full augment dict."""

    #: (new augment dict, undo text, merge key)
    edited = Signal(dict, str, str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._augment = augment_defaults()
        self.spins: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        for field in AUGMENT_FIELDS:
            spin = HumanDoubleSpinBox()
            spin.setRange(field.minimum, field.maximum)
            spin.setDecimals(0 if field.name == "rotation" else 2)
            spin.setSingleStep(5.0 if field.name == "rotation" else 0.05)
            spin.setSpecialValueText("off")
            route_undo_keys(spin)
            spin.setKeyboardTracking(False)
            spin.setToolTip(field.help)
            spin.setObjectName(f"augment_{field.name}")
            spin.valueChanged.connect(lambda value, f=field: self._on_value(f.name, f.title, value))
            self.spins[field.name] = spin
            label = QLabel(field.title)
            label.setToolTip(field.help)
            form.addRow(label, spin)
        self.reset_button = QPushButton("All off")
        self.reset_button.clicked.connect(self._reset)
        self.refresh_button = QPushButton("New samples")
        self.refresh_button.setToolTip("Draw new random augmentations for the preview.")
        self.refresh_button.clicked.connect(self.refresh_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.refresh_button)

        controls = QVBoxLayout()
        title = QLabel("Augmentation")
        title.setStyleSheet("font-weight: 600; font-size: 13px;")
        note = QLabel("Applied to training batches only, with new random values for every image "
                      "(boxes move with the image).")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        controls.addWidget(title)
        controls.addWidget(note)
        controls.addLayout(form)
        controls.addLayout(buttons)
        controls.addStretch(1)
        controls_host = QWidget()
        controls_host.setLayout(controls)
        controls_host.setFixedWidth(250)

        self.mosaic = Mosaic()
        layout = QHBoxLayout(self)
        layout.addWidget(controls_host)
        layout.addWidget(self.mosaic, 1)

    def set_augment(self, augment: dict, channels: int = 3) -> None:
        self._augment = {**augment_defaults(), **augment}
        for name, spin in self.spins.items():
            with QSignalBlocker(spin):
                spin.setValue(float(self._augment.get(name, 0.0)))
            spin.setEnabled(channels == 3 or name not in _COLOUR_ONLY)

    def _on_value(self, name: str, title: str, value: float) -> None:
        new = {**self._augment, name: float(value)}
        self.edited.emit(_compact(new), f"Change augmentation: {title.lower()}", f"augment:{name}")

    def _reset(self) -> None:
        self.edited.emit({}, "Turn augmentation off", "")


def _compact(augment: dict) -> dict:
    """Only the settings that are on (the project file stays short and readable)."""
    return {k: v for k, v in augment.items() if float(v) > 0}
