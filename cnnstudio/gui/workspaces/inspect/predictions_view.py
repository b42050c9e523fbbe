"""Predictions: the top-k classes with bars, and for localization models the predicted box (class and
confidence) drawn on the input beside the true box when the sample has one."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.prob_bars import ProbabilityBars


class PredictionsView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.k.setValue(5)
        self.k.setToolTip("How many of the most probable classes to list")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.bars = ProbabilityBars(rows=20)
        self.bars.setFixedHeight(self.k.value() * 20 + 4)  # the shown rows, not room for 20 (1280x720 fits)
        self.predicted = ImageView(minimum=160)
        self.truth = ImageView(minimum=160)
        self.predicted.setToolTip("The input with the predicted box, class and confidence")
        self.truth.setToolTip("The input with its true box")
        top = QHBoxLayout()
        top.addWidget(QLabel("Top"))
        top.addWidget(self.k)
        top.addWidget(self.summary, 1)
        images = QHBoxLayout()
        images.addWidget(self.predicted)
        images.addWidget(self.truth)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.bars)
        layout.addLayout(images, 1)

    def show_prediction(self, session) -> None:
        from cnnstudio.ml.inspect.render import draw_box, enlarge
        from cnnstudio.ml.tasks import runtime_of_model

        model, analysis, inp = session.model, session.analysis, session.input
        if model is None or analysis is None or inp is None:
            self.show_message("Open a model and an image to see its predictions.")
            return
        k = self.k.value()
        top = analysis.top(model.meta, k)
        self.bars.setFixedHeight(min(k, len(top)) * 20 + 4)
        true_name = model.meta.class_name(inp.label) if inp.label is not None else None
        self.bars.set_items([(name, p) for _i, name, p in top], true_name)
        verdict = ""
        if true_name is not None:
            verdict = " — correct" if top[0][1] == true_name else f" — wrong (true class {true_name})"
        self.summary.setText(f"Predicted <b>{top[0][1]}</b> with {top[0][2]:.1%}{verdict}.")
        big = enlarge(inp.display, 320)
        task = runtime_of_model(model.meta.task)  # the task draws what it predicts (a box, or nothing)
        self.predicted.set_image(task.overlay(big, analysis.decoded, 0, f"{top[0][1]} {top[0][2]:.0%}", (230, 60, 60),
                                              names=model.meta.class_names))
        if analysis.bbox is not None:
            self.predicted.show()
        if analysis.mask is not None:  # a segmenter: the classes of the pixels, and the true ones beside
            from cnnstudio.ml.tasks.segmentation import PALETTE, colour_masks

            def coloured(i: int, share: float) -> str:  # each class in its overlay colour: the legend
                r, g, b = (int(v) for v in PALETTE[i % len(PALETTE)]) if i else (128, 128, 128)
                return f"<span style='color: rgb({r}, {g}, {b})'>■</span> {model.meta.class_name(i)} {share:.0%}"

            shares = ", ".join(coloured(i, p) for i, p in enumerate(analysis.probabilities) if p >= 0.005)
            self.summary.setText(f"Pixels: {shares}.")
            if inp.mask is not None:
                self.truth.set_image(colour_masks(big, inp.mask))
                self.truth.setToolTip("The true class of every pixel of this validation image")
                self.truth.show()
            else:
                self.truth.hide()
            return
        if analysis.objects is not None:  # a detector: every object found, and the true ones beside
            from cnnstudio.ml.tasks.detection import draw_objects

            found = len(analysis.objects)
            self.summary.setText(f"Found <b>{found}</b> object{'s' if found != 1 else ''}"
                                 + (f" ({len(inp.objects)} in the image)." if inp.objects is not None else "."))
            if inp.objects is not None:
                self.truth.set_image(draw_objects(big, (), model.meta.class_names, truth=inp.objects))
                self.truth.setToolTip("The true objects of this validation image")
                self.truth.show()
            else:
                self.truth.hide()
            return
        if inp.box is not None:
            name = true_name or "true box"
            self.truth.set_image(draw_box(big, inp.box, f"true: {name}", (40, 180, 80)))
            self.truth.show()
        else:
            self.truth.hide()
            if analysis.bbox is None:
                self.predicted.setToolTip("The input (this model predicts classes only, no box)")

    def show_message(self, text: str) -> None:
        self.summary.setText(text)
        self.bars.set_items([])
        self.predicted.set_message("")
        self.truth.hide()
