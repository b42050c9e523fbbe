"""Saliency: which pixels drive the prediction (Grad-CAM or the plain gradient), overlaid on the input."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from cnnstudio.gui.widgets.colour_bar import ColourBar
from cnnstudio.gui.workspaces.inspect.image_view import ImageView

METHODS = (("Grad-CAM", "gradcam"), ("Gradient", "gradient"))


class SaliencyView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.method = QComboBox()
        for title, key in METHODS:
            self.method.addItem(title, key)
        self.method.setToolTip("Grad-CAM: a conv layer's channels weighted by the class score's gradient (coarse, "
                               "class-specific). Gradient: |d score / d pixel| (fine, noisy).")
        self.target = QComboBox()
        self.target.setToolTip("The class to explain")
        self.layer = QComboBox()
        self.layer.setToolTip("Grad-CAM's layer (default: the last spatial layer)")
        self.alpha = QSlider(Qt.Orientation.Horizontal)
        self.alpha.setRange(0, 100)
        self.alpha.setValue(55)
        self.alpha.setToolTip("Overlay opacity")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.overlay = ImageView(minimum=200)
        self.heat = ImageView(minimum=120)
        self.overlay_title = QLabel("Overlay on the input")
        self.heat_title = QLabel("Heat map")
        for title in (self.overlay_title, self.heat_title):
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setStyleSheet("font-weight: 600;")
            title.setWordWrap(True)
        self.heat_bar = ColourBar()
        self.heat_bar.setToolTip("How strongly each place drives the class's score, scaled to this image")
        row = QHBoxLayout()
        for label, widget in (("Method:", self.method), ("Class:", self.target), ("Layer:", self.layer), ("Opacity:", self.alpha)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        images = QHBoxLayout()
        overlay_column = QVBoxLayout()
        overlay_column.addWidget(self.overlay_title)
        overlay_column.addWidget(self.overlay, 1)
        heat_column = QVBoxLayout()
        heat_column.addWidget(self.heat_title)
        heat_row = QHBoxLayout()
        heat_row.addWidget(self.heat, 1)
        heat_row.addWidget(self.heat_bar)
        heat_column.addLayout(heat_row, 1)
        images.addLayout(overlay_column, 2)
        images.addLayout(heat_column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        layout.addLayout(images, 1)
        self._twin = None
        self._twin_for = None
        for widget in (self.method, self.target, self.layer):
            widget.currentIndexChanged.connect(lambda _i: self.changed())
        self.alpha.valueChanged.connect(lambda _v: self.changed())
        self.layer.setEnabled(True)
        self._session = None

    def set_session(self, session) -> None:
        self._session = session

    def model_changed(self, session) -> None:
        """Refill the class and layer lists for a new model."""
        self._session = session
        self._twin = None
        self._twin_for = None
        model = session.model
        for combo in (self.target, self.layer):
            combo.blockSignals(True)
            combo.clear()
        self.target.addItem("predicted class", None)
        self.layer.addItem("last spatial layer", None)
        if model is not None:
            for i, name in enumerate(model.meta.class_names):
                self.target.addItem(name, i)
            if model.torch_model is not None or model.spec:
                for t in model.tensors:
                    if t.spatial:
                        self.layer.addItem(model.label(t.name), model.label(t.name))
        for combo in (self.target, self.layer):
            combo.blockSignals(False)

    def changed(self) -> None:
        if self.isVisible() and self._session is not None:
            self.update_view(self._session)

    def _torch_model(self, session):
        from cnnstudio.ml.inspect.saliency import torch_twin

        if self._twin_for is not session.model:
            self._twin = torch_twin(session.model)
            self._twin_for = session.model
        return self._twin

    def update_view(self, session) -> None:
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.inspect.render import colormap, enlarge, overlay_heatmap, render_channel
        from cnnstudio.ml.inspect.saliency import grad_cam, gradient_saliency

        self._session = session
        if session.model is None or session.input is None:
            self._message("Open a model and an image to see what drives its prediction.")
            return
        net = self._torch_model(session)
        if net is None:
            self._message(
                "Saliency needs gradients, so it runs on PyTorch models: pick a run of this project or the "
                "current network. ONNX files from other tools cannot be differentiated here."
            )
            return
        method = self.method.currentData()
        self.layer.setEnabled(method == "gradcam")
        try:
            if method == "gradcam":
                result = grad_cam(net, session.input.tensor, self.layer.currentData(), self.target.currentData())
            else:
                result = gradient_saliency(net, session.input.tensor, self.target.currentData())
        except UserError as exc:
            self._message(str(exc))
            return
        base = enlarge(session.input.display, 320)
        self.overlay.set_image(overlay_heatmap(base, result.heat, self.alpha.value() / 100))
        self.heat.set_image(render_channel(result.heat, "jet", 160))
        name = session.model.meta.class_name(result.target)
        where = f" of layer {result.layer}" if result.layer else ""
        self.heat_title.setText(f"{self.method.currentText()} map{where}, class {name}")
        self.heat_title.setToolTip(self.heat_title.text())
        self.overlay_title.setText(f"Overlay on the input ({self.alpha.value()} % opacity)")
        self.heat_bar.set_map(colormap("jet"))
        self.heat_bar.set_labels("most", "none", "influence on the score")
        self.heat_bar.show()
        self.caption.setText(f"{self.method.currentText()}{where} for class <b>{name}</b>: red marks the pixels "
                             "that raise this class's score most.")

    def _message(self, text: str) -> None:
        self.caption.setText(text)
        self.heat_title.setText("Heat map")
        self.heat_bar.hide()
        self.overlay.set_message("")
        self.heat.set_message("")
