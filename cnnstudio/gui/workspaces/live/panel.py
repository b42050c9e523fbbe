"""The Live side panel: source, model and provider pickers, top-k bars, speed figures, feature maps,
snapshot and record buttons. It only shows things; the workspace wires it to the session."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

TOP_K = 5


class LivePanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(280)
        self.setMaximumWidth(360)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)

        inputs = QGroupBox("Input")
        form = QFormLayout(inputs)
        self.source_combo = QComboBox()
        self.source_combo.setToolTip("A camera, a video file or a folder of images played as a slideshow")
        self.refresh_button = QToolButton()
        self.refresh_button.setText("⟳")
        self.refresh_button.setToolTip("Look for cameras again")
        row = QHBoxLayout()
        row.addWidget(self.source_combo, 1)
        row.addWidget(self.refresh_button)
        form.addRow("Source", row)
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("The bundled digits model, a training run of this project, or any ONNX file")
        form.addRow("Model", self.model_combo)
        self.provider_combo = QComboBox()
        self.provider_combo.setToolTip("Where ONNX Runtime runs the model (CPU is always there)")
        form.addRow("Runs on", self.provider_combo)
        self.roi_check = QCheckBox("Region of interest")
        self.roi_check.setChecked(True)
        self.roi_check.setToolTip("Feed only the box on the video to the model (drag it, resize it by its corners)")
        self.reset_roi_button = QPushButton("Centre")
        self.reset_roi_button.setToolTip("Put the box back in the middle")
        row = QHBoxLayout()
        row.addWidget(self.roi_check, 1)
        row.addWidget(self.reset_roi_button)
        form.addRow(row)
        for combo in (self.source_combo, self.model_combo, self.provider_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        layout.addWidget(inputs)

        answer = QGroupBox("Prediction")
        box = QVBoxLayout(answer)
        self.prediction_label = QLabel("–")
        font = self.prediction_label.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.prediction_label.setFont(font)
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.prediction_label)
        self.bar_names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        grid = self._bars_form = QFormLayout()
        for _ in range(TOP_K):
            name = QLabel("")
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("")
            bar.setTextVisible(True)
            bar.setMaximumHeight(16)
            grid.addRow(name, bar)
            self.bar_names.append(name)
            self.bars.append(bar)
        box.addLayout(grid)
        layout.addWidget(answer)

        speed = QGroupBox("Speed")
        box = QVBoxLayout(speed)
        self.fps_label = QLabel("–")
        self.fps_label.setToolTip("Frames per second shown, and processed by the model; frames dropped to stay current")
        self.latency_label = QLabel("–")
        self.latency_label.setToolTip("Per frame: reading the camera or file, preprocessing, the model, drawing")
        for label in (self.fps_label, self.latency_label):
            label.setWordWrap(True)
            box.addWidget(label)
        layout.addWidget(speed)

        maps = QGroupBox("Feature maps")
        box = QVBoxLayout(maps)
        self.features_check = QCheckBox("Show the maps of")
        self.features_check.setToolTip("Show every channel of one layer's output for the current frame")
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("The layer whose feature maps are shown")
        self.layer_combo.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.features_check)
        row.addWidget(self.layer_combo, 1)
        box.addLayout(row)
        self.features_view = pg.GraphicsLayoutWidget()
        self.features_view.setBackground("#202020")
        self.features_view.setFixedHeight(180)
        viewbox = self.features_view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        viewbox.setMouseEnabled(False, False)
        self.features_item = pg.ImageItem(axisOrder="row-major")
        viewbox.addItem(self.features_item)
        self._features_box = viewbox
        self.features_view.hide()
        box.addWidget(self.features_view)
        layout.addWidget(maps)

        buttons = QHBoxLayout()
        self.snapshot_button = QPushButton("Snapshot…")
        self.snapshot_button.setToolTip("Save the annotated frame as an image")
        self.record_button = QPushButton("Record…")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record the annotated video to a file")
        buttons.addWidget(self.snapshot_button)
        buttons.addWidget(self.record_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def show_top(self, top: list[tuple[int, str, float]]) -> None:
        if top:
            self.prediction_label.setText(f"{top[0][1]}  {top[0][2] * 100:.1f}%")  # as its bar says
        else:
            self.prediction_label.setText("–")
        for i, (name, bar) in enumerate(zip(self.bar_names, self.bars)):
            if i < len(top):
                name.setText(top[i][1])
                bar.setValue(int(round(top[i][2] * 1000)))
                bar.setFormat(f"{top[i][2] * 100:.1f}%")
            else:
                name.setText("")
                bar.setValue(0)
                bar.setFormat("")
            # rows the model gives no class for are hidden, not left as empty bars
            self._bars_form.setRowVisible(i, i < len(top) or not top and i == 0)

    def clear_readouts(self) -> None:
        """No prediction, speed or feature maps (there is no current frame)."""
        self.show_top([])
        self.fps_label.setText("–")
        self.latency_label.setText("–")
        self.features_item.clear()

    def show_features(self, mosaic: np.ndarray | None) -> None:
        if mosaic is None:
            return
        first = self.features_item.image is None or self.features_item.image.shape != mosaic.shape
        self.features_item.setImage(mosaic, autoLevels=False, levels=(0, 255))
        if first:
            self._features_box.autoRange(padding=0.0)
