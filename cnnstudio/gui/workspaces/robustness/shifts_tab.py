"""Shifts tab: accuracy against natural transformations (Azulay & Weiss), one image under a one-pixel
slider, and the fix: retraining with the matching augmentation, curves before and after."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.workspaces.robustness.base_tab import LabTab
from cnnstudio.gui.workspaces.robustness.widgets import ImageTile, ThemedPlot


class ShiftsTab(LabTab):
    def __init__(self, workers, lab, parent: QWidget | None = None):
        from cnnstudio.ml.robustness.transforms import TRANSFORMATIONS

        super().__init__(workers, "Transformations",
                         "Networks \"even fail with natural transformations of images\" (Azulay & Weiss): a shift by "
                         "a few pixels, a small rotation, zoom, noise, blur or a darker image. Measure the accuracy "
                         "curve, then retrain with the matching augmentation and compare.", parent)
        self.lab = lab
        self.kind = QComboBox()
        for name, t in TRANSFORMATIONS.items():
            self.kind.addItem(t.title, name)
        self.kind.setToolTip("Which transformation the plot shows (Measure computes all of them)")
        self.kind.currentIndexChanged.connect(self._draw)
        self.form.addRow("Transformation", self.kind)
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("The validation image under the shift slider")
        self.index.valueChanged.connect(self._shift_image)
        self.form.addRow("Validation image", self.index)
        self.measure_button = self.add_button("Measure", "Accuracy of the validation set under every "
                                              "transformation", self.run_measure, "Ctrl+Return")
        self.fix_button = self.add_button("Fix: retrain", "Retrain the model with the augmentation that matches "
                                          "the chosen transformation, then measure again", self.run_fix, "Ctrl+F")
        self.finish_buttons()
        top = QHBoxLayout()
        self.tile = ImageTile("", size=150)
        top.addWidget(self.tile)
        slider_box = QVBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-6, 6)
        self.slider.setValue(0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setToolTip("Shift the image left or right one pixel at a time (arrow keys)")
        self.slider.valueChanged.connect(self._shift_image)
        self.shift_label = QLabel("")
        self.shift_label.setWordWrap(True)
        slider_box.addWidget(QLabel("Shift the image by whole pixels:"))
        self.use_fixed = QCheckBox("Use the model retrained with shift augmentation")
        self.use_fixed.setToolTip("After Fix: retrain on Shift, compare the one-pixel behaviour of both models")
        self.use_fixed.setEnabled(False)
        self.use_fixed.toggled.connect(self._shift_image)
        slider_box.addWidget(self.use_fixed)
        slider_box.addWidget(self.slider)
        slider_box.addWidget(self.shift_label)
        self.sweep_label = QLabel("")
        self.sweep_label.setWordWrap(True)
        self.sweep_label.setToolTip("The prediction at every whole-pixel shift; a change between neighbours is bold")
        slider_box.addWidget(self.sweep_label)
        slider_box.addStretch(1)
        top.addLayout(slider_box, 1)
        self.view.addLayout(top)
        self.plot = ThemedPlot("Validation accuracy", "", "accuracy")
        self.plot.setYRange(0, 1)
        self.view.addWidget(self.plot, 1)
        self.before: dict[str, list] = {}
        self.after: dict[str, tuple] = {}
        self.shift_model = None  # the model retrained with shift augmentation, once Fix ran on Shift
        lab.subject_changed.connect(self._subject_changed)
        self._subject_changed(lab.subject)

    def can_run(self, button) -> bool:
        if self.lab.subject is None:
            return False
        if button is self.fix_button:
            from cnnstudio.ml.robustness.transforms import FIXES

            return FIXES.get(self.kind.currentData()) is not None
        return True

    def _subject_changed(self, subject) -> None:
        self.before, self.after = {}, {}
        self.shift_model = None
        self.use_fixed.setChecked(False)
        self.use_fixed.setEnabled(False)
        if subject is not None:
            self.index.setRange(0, len(subject.data.val_x) - 1)
        self.refresh_buttons()
        self._draw()
        self._shift_image()

    def _shift_image(self) -> None:
        from cnnstudio.ml.robustness.subject import predict
        from cnnstudio.ml.robustness.transforms import shift_pixels

        subject = self.lab.subject
        if subject is None:
            self.tile.set_image(None, "Load or train a model first.")
            self.shift_label.setText("")
            return
        i, s = self.index.value(), self.slider.value()
        image = shift_pixels(subject.data.val_x[i:i + 1], s, 0)
        p = predict(self._slider_model(), image)[0]
        names = subject.classes
        top = int(p.argmax())
        self.tile.set_image(image[0].numpy(), f"shift {s:+d} px: <b>{names[top]}</b> ({float(p[top]):.1%})")
        self.shift_label.setText(f"True class {names[int(subject.data.val_y[i])]}. Predicted {names[top]} with "
                                 f"{float(p[top]):.1%}; drag one pixel and watch it change.")
        self._sweep(i)

    def _slider_model(self):
        if self.use_fixed.isChecked() and self.shift_model is not None:
            return self.shift_model
        return self.lab.subject.model

    def _sweep(self, i: int) -> None:
        from cnnstudio.ml.robustness.transforms import prediction_flips, shift_sweep

        subject = self.lab.subject
        sweep = shift_sweep(self._slider_model(), subject.data.val_x[i], self.slider.maximum())
        names = subject.classes
        parts = []
        for k, s in enumerate(sweep):
            changed = k > 0 and sweep[k - 1]["predicted"] != s["predicted"]
            text = f"{s['shift']:+d}: {names[s['predicted']]} {s['confidence']:.0%}"
            parts.append(f"<b>{text}</b>" if changed else text)
        flips = prediction_flips(sweep)
        self.sweep_label.setText(f"{flips} change{'s' if flips != 1 else ''} of prediction between neighbouring "
                                 "shifts:<br>"
                                 + " · ".join(parts))

    def _draw(self) -> None:
        from cnnstudio.ml.robustness.transforms import FIXES, TRANSFORMATIONS

        kind = self.kind.currentData()
        t = TRANSFORMATIONS[kind]
        self.plot.reset()
        self.plot.setYRange(0, 1)
        self.plot.setXRange(min(t.amounts), max(t.amounts))
        self.plot.set_xlabel(t.unit)
        if kind in self.before:
            xs, ys = zip(*self.before[kind])
            self.plot.line("before", 0).setData(list(xs), list(ys))
        if kind in self.after:
            augment, curve = self.after[kind]
            xs, ys = zip(*curve)
            text = ", ".join(f"{k} {v:g}" for k, v in augment.items())
            self.plot.line(f"after: trained with augment {text}", 2).setData(list(xs), list(ys))
        if FIXES[kind] is None:
            self.message.setText(f"The augmentation pipeline has nothing that matches {t.title.lower()}, so there "
                                 "is no fix to try for it.")
        self.refresh_buttons()

    def run_measure(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import transforms_job
        from cnnstudio.ml.robustness.transforms import TRANSFORMATIONS

        if self.lab.subject is None:
            return
        self.start(transforms_job, self.lab.subject, list(TRANSFORMATIONS), text="Measuring…",
                   on_partial=self._partial)

    def _partial(self, kind: str, value) -> None:
        name, curve = value
        self.before[name] = curve
        if name == self.kind.currentData():
            self._draw()

    def run_fix(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import fix_job

        if self.lab.subject is None:
            return
        self.start(fix_job, self.lab.subject, self.kind.currentData(), text="Retraining…", with_control=True,
                   on_done=self._fixed)

    def _fixed(self, value) -> None:
        from cnnstudio.ml.robustness.transforms import TRANSFORMATIONS, accuracy_curve

        kind, augment, curve, model = value
        self.after[kind] = (augment, curve)
        if kind == "shift":
            self.shift_model = model
            self.use_fixed.setEnabled(True)
        if kind not in self.before:
            s = self.lab.subject
            self.before[kind] = accuracy_curve(s.model, s.data.val_x, s.data.val_y, kind)
        self._draw()
        worst = min(range(len(curve)), key=lambda i: self.before[kind][i][1])
        amount = curve[worst][0]
        self.message.setText(f"At {amount:g} ({kind}): {self.before[kind][worst][1]:.1%} before, {curve[worst][1]:.1%} "
                             f"after retraining with augment {', '.join(f'{k} {v:g}' for k, v in augment.items())}; untransformed: "
                             f"{dict(curve).get(TRANSFORMATIONS[kind].identity, float('nan')):.1%}.")
