"""Learned kernels of every conv layer, and for a run how they changed over its checkpoints (epoch slider)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from cnnstudio.core.numbers import human_number
from cnnstudio.gui.widgets.colour_bar import ColourBar
from cnnstudio.gui.workspaces.inspect.image_view import ImageView


class KernelsView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer = QComboBox()
        self.layer.setToolTip("The conv layer whose kernels are shown")
        self.epoch = QSlider(Qt.Orientation.Horizontal)
        self.epoch.setToolTip("Checkpoint of the run: how the kernels looked after each epoch "
                              "(epoch 0: the initial weights, before training)")
        self.epoch.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.epoch.setPageStep(1)
        self.epoch_label = QLabel()
        self.epoch_label.setMinimumWidth(self.epoch_label.fontMetrics().horizontalAdvance("epoch 00000"))
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.grid = ImageView(minimum=160)
        self.grid.hovered.connect(self._on_hover)
        self.colour_bar = ColourBar()
        self.value_label = QLabel("Hover a kernel to read its weights.")
        self.value_label.setWordWrap(True)
        self.value_label.setToolTip("The weight under the mouse, and the range of its kernel (the colour bar's ends)")
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer:"))
        row.addWidget(self.layer)
        row.addWidget(QLabel("Epoch:"))
        row.addWidget(self.epoch, 1)
        row.addWidget(self.epoch_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        images = QHBoxLayout()
        images.addWidget(self.grid, 1)
        images.addWidget(self.colour_bar)
        layout.addLayout(images, 1)
        layout.addWidget(self.value_label)
        self._shown = None  # (weights, layout, scale) of the drawn grid, for reading values under the mouse
        self._current: dict = {}
        self._snapshots: list = []
        self._loaded_for = None
        self._model = None
        self.layer.currentIndexChanged.connect(lambda _i: self._draw())
        self.epoch.valueChanged.connect(lambda _v: self._draw())

    def update_view(self, session) -> None:
        """Load the kernels of the session's model (and its run's checkpoints) once per model."""
        from cnnstudio.core.errors import UserError
        from cnnstudio.gui.workers import error_sentence

        model = session.model
        if model is None:
            self.grid.set_message("Open a model to see its kernels.")
            return
        if self._loaded_for is model:
            return
        self._loaded_for = model
        self._model = model
        self._snapshots = []
        try:
            self._current = model.conv_kernels()
        except UserError as exc:
            self._current = {}
            self.grid.set_message(str(exc))
            return
        note = ""
        if model.run_dir is not None:
            try:
                from cnnstudio.ml.inspect.kernels import checkpoint_kernels

                self._snapshots = checkpoint_kernels(model.run_dir)
            except Exception as exc:  # a damaged checkpoint must not hide the current kernels
                note = " " + error_sentence(exc, "The run's checkpoints could not be read")
        self.layer.blockSignals(True)
        self.layer.clear()
        for name in self._current:
            self.layer.addItem(model.label(name), name)
        self.layer.blockSignals(False)
        self.epoch.blockSignals(True)
        self.epoch.setRange(0, max(0, len(self._snapshots) - 1))
        self.epoch.setTickInterval(max(1, len(self._snapshots) // 20))
        self.epoch.setValue(max(0, len(self._snapshots) - 1))
        self.epoch.blockSignals(False)
        self.epoch.setEnabled(len(self._snapshots) > 1)
        self._note = note
        self._draw()

    def _draw(self) -> None:
        from cnnstudio.ml.inspect.kernels import kernel_change, render_kernels

        if not self._current:
            self.grid.set_message("This model has no convolution layers, so it has no kernels to show.")
            self.caption.setText("")
            self.epoch_label.setText("")
            return
        name = self.layer.currentData() or next(iter(self._current))
        weights = self._current[name]
        epoch_text = "current weights"
        if self._snapshots:
            position = self.epoch.value()
            snap = self._snapshots[position]
            self.epoch_label.setText(f"epoch {snap.epoch}")
            if name in snap.weights:
                weights = snap.weights[name]
                epoch_text = _epoch_text(self._snapshots, position, kernel_change(self._snapshots, name)[position])
            else:
                epoch_text = f"current weights (the checkpoint of epoch {snap.epoch} has no layer {name})"
        else:
            self.epoch_label.setText("no checkpoints (not a run)")
        image, grid_layout = render_kernels(weights)
        self.grid.set_image(image)
        out_c, in_c, kh, kw = weights.shape
        rect = grid_layout.rects[0] if grid_layout.rects else (0, 0, kw, kh)
        self._shown = (weights, grid_layout, max(1, rect[2] // kw))
        self._show_scale(weights)
        how = ("each filter as an RGB image (its red, green and blue input slices)" if in_c == 3
               else f"one tile per (filter, input channel): {out_c} rows of {in_c}" if in_c > 1 else "one tile per filter, in order (left to right, top to bottom)")
        self.caption.setText(f"<b>{self._model.label(name)}</b>: {out_c} filters of {in_c}×{kh}×{kw}, {how}; "
                             f"{epoch_text}.{getattr(self, '_note', '')}")


    def _show_scale(self, weights, tile: int | None = None) -> None:
        """The colour bar: low → high of each kernel (each tile is scaled to its own range)."""
        from cnnstudio.ml.inspect.render import colormap

        out_c, in_c = weights.shape[:2]
        if in_c == 3:  # RGB tiles: each filter's three input slices as red, green and blue
            self.colour_bar.set_map(np.stack([np.arange(256, dtype=np.uint8)] * 3, axis=1))
            values = weights if tile is None else weights[tile]
            self.colour_bar.set_labels(human_number(float(values.max())), human_number(float(values.min())),
                                       "weight (per channel)")
            return
        self.colour_bar.set_map(colormap("viridis"))
        if tile is None:
            self.colour_bar.set_labels("kernel's max", "kernel's min", "weight")
            self.value_label.setText(
                f"Weights of this layer: {human_number(float(weights.min()))} … {human_number(float(weights.max()))}; "
                "each tile is coloured from its own smallest (dark) to its largest (yellow) weight. "
                "Hover a kernel to read its values.")
        else:
            kernel = weights.reshape(out_c * in_c, *weights.shape[2:])[tile]
            self.colour_bar.set_labels(human_number(float(kernel.max())), human_number(float(kernel.min())), "weight")

    def _on_hover(self, x: float, y: float) -> None:
        if self._shown is None:
            return
        weights, grid_layout, scale = self._shown
        index = grid_layout.tile_at(x, y)
        if index is None:
            return
        out_c, in_c, kh, kw = weights.shape
        rx, ry, _rw, _rh = grid_layout.rects[index]
        r, c = min(kh - 1, int((y - ry) // scale)), min(kw - 1, int((x - rx) // scale))
        if in_c == 3:
            values = ", ".join(human_number(float(v)) for v in weights[index, :, r, c])
            self.value_label.setText(f"Filter {index + 1}, row {r + 1}, column {c + 1}: weights (R, G, B) = {values}")
        else:
            f, i = divmod(index, in_c)
            kernel = weights[f, i]
            self.value_label.setText(
                f"Filter {f + 1}" + (f", input channel {i + 1}" if in_c > 1 else "")
                + f", row {r + 1}, column {c + 1}: weight {human_number(float(kernel[r, c]))} "
                f"(this kernel: {human_number(float(kernel.min()))} … {human_number(float(kernel.max()))})")
        self._show_scale(weights, index)

    def hovered_text(self) -> str:
        return self.value_label.text()


def _epoch_text(snapshots: list, position: int, change: float) -> str:
    """What the slider's checkpoint is: the initial weights, or an epoch, how far it moved, best/last."""
    snap = snapshots[position]
    if snap.epoch == 0 and snap.path is None:
        return "epoch 0: the initial random weights, before training"
    if position == 0:
        text = f"epoch {snap.epoch} (the run's first saved checkpoint)"
    else:
        text = f"epoch {snap.epoch} (changed {change:.1%} since epoch {snapshots[position - 1].epoch})"
    marks = [what for file, what in (("best.pt", "the best epoch"), ("last.pt", "the last epoch"))
             if file in snap.sources]
    return text + (f", {' and '.join(marks)}" if marks else "")
