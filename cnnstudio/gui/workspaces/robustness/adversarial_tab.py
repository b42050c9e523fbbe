"""Adversarial tab: FGSM and PGD on one image (the lecture's panda) and accuracy against epsilon."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.workspaces.robustness.base_tab import LabTab
from cnnstudio.gui.workspaces.robustness.widgets import ImageTile, ThemedPlot

EPSILONS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


class AdversarialTab(LabTab):
    def __init__(self, workers, lab, parent: QWidget | None = None):
        super().__init__(workers, "Attack",
                         "\"No one adds noise to things in real applications\" - not true. A perturbation too small to "
                         "notice (epsilon, on the 0-1 pixel scale) can flip a confident prediction. FGSM takes one step "
                         "along the sign of the loss gradient; PGD takes ten, each projected back into the epsilon "
                         "box. Targeted attacks push towards a chosen class.", parent)
        self.lab = lab
        self.attack = QComboBox()
        self.attack.addItem("FGSM (one step)", "fgsm")
        self.attack.addItem("PGD (10 steps)", "pgd")
        self.attack.setToolTip("The attack used on the single image")
        self.form.addRow("Attack", self.attack)
        self.eps = HumanDoubleSpinBox()
        self.eps.setRange(0.0, 1.0)
        self.eps.setDecimals(3)
        self.eps.setSingleStep(0.01)
        self.eps.setValue(0.15)
        self.eps.setToolTip("Largest change of any pixel (L-infinity), pixels in [0, 1]")
        self.form.addRow("Epsilon", self.eps)
        self.targeted = QCheckBox("Targeted")
        self.targeted.setToolTip("Push the prediction towards the target class instead of away from the true one")
        self.target = QComboBox()
        self.target.setToolTip("The class a targeted attack aims for")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.targeted)
        row.addWidget(self.target, 1)
        holder = QWidget()
        holder.setLayout(row)
        self.form.addRow("", holder)
        self.index = QSpinBox()
        self.index.setRange(0, 0)
        self.index.setToolTip("Which validation image to attack")
        self.form.addRow("Validation image", self.index)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.open_image = QPushButton("Your image…")
        self.open_image.setToolTip("Attack an image file of your own (or drop one on the window), prepared as the "
                                   "model's preprocessing says")
        self.open_image.clicked.connect(self.choose_image)
        self.back = QPushButton("Validation images")
        self.back.setToolTip("Attack the validation images again")
        self.back.setEnabled(False)
        self.back.clicked.connect(lambda: self.set_user_image(None))
        row.addWidget(self.open_image)
        row.addWidget(self.back)
        holder2 = QWidget()
        holder2.setLayout(row)
        self.form.addRow(holder2)  # the whole row: both buttons' text fits at 11 pt
        self.user_image = None  # (C, H, W) pixels of the user's own image, or None
        for widget in (self.attack, self.targeted, self.target):
            (widget.currentIndexChanged if isinstance(widget, QComboBox) else widget.toggled).connect(self.attack_image)
        self.eps.valueChanged.connect(self.attack_image)
        self.index.valueChanged.connect(self.attack_image)
        self.curve_button = self.add_button("Accuracy vs epsilon", "FGSM, PGD and targeted PGD on the whole "
                                            "validation set", self.run_curve, "Ctrl+Return")
        self.finish_buttons()
        tiles = QHBoxLayout()
        self.original = ImageTile("original")
        self.noise = ImageTile("perturbation")
        self.adversarial = ImageTile("adversarial")
        for i, tile in enumerate((self.original, self.noise, self.adversarial)):
            tiles.addWidget(tile)
            if i < 2:
                sign = QLabel("+" if i == 0 else "=")
                sign.setStyleSheet("font-size: 28px;")
                tiles.addWidget(sign)
        tiles.addStretch(1)
        self.view.addLayout(tiles)
        self.plot = ThemedPlot("Accuracy under attack (validation set)", "epsilon", "accuracy")
        self.plot.setYRange(0, 1)
        self.plot.setXRange(0, max(EPSILONS))
        self.view.addWidget(self.plot, 1)
        self.example = None
        self.curves: dict[str, list[dict]] = {}
        self._items: dict = {}
        lab.subject_changed.connect(self._subject_changed)
        self._subject_changed(lab.subject)

    def can_run(self, button) -> bool:
        return self.lab.subject is not None

    def _subject_changed(self, subject) -> None:
        self.user_image = None  # prepared for the previous model's input
        self.index.setEnabled(True)
        self.back.setEnabled(False)
        self.target.blockSignals(True)
        self.target.clear()
        if subject is not None:
            for i, name in enumerate(subject.classes):
                self.target.addItem(name, i)
            self.index.setRange(0, len(subject.data.val_x) - 1)
        self.target.setCurrentIndex(min(1, self.target.count() - 1))
        self.target.blockSignals(False)
        self.refresh_buttons()
        self.attack_image()

    def attack_image(self) -> None:
        """Attack the chosen image now (one image: milliseconds, on this thread)."""
        from cnnstudio.ml.robustness.attacks import attack_example

        subject = self.lab.subject
        if subject is None:
            self.original.set_image(None, "Train a model or open a run first (bar above).")
            self.noise.set_image(None, "perturbation")
            self.adversarial.set_image(None, "adversarial")
            return
        target = self.target.currentData() if self.targeted.isChecked() else None
        if self.user_image is not None:
            from cnnstudio.ml.robustness.subject import predict

            image = self.user_image
            label = int(predict(subject.model, image[None]).argmax(1)[0])  # its own prediction is the "truth"
            truth = "your image"
        else:
            i = self.index.value()
            image, label = subject.data.val_x[i], int(subject.data.val_y[i])
            truth = f"true {subject.classes[label]}"
        ex = attack_example(subject.model, image, label, self.attack.currentData(), self.eps.value(), target)
        names = subject.classes
        self.example = ex
        self.original.set_image(ex.image, f"{truth}; predicted <b>{names[ex.before]}</b> "
                                          f"({ex.before_confidence:.1%})")
        amp = 1 / ex.eps if ex.eps > 0 else 1
        self.noise.set_image(ex.amplified(), f"perturbation, amplified x{amp:.0f} (eps {ex.eps:g})")
        hit = " (target hit)" if target is not None and ex.after == target else ""
        self.adversarial.set_image(ex.adversarial, f"predicted <b>{names[ex.after]}</b> "
                                                   f"({ex.after_confidence:.1%}){hit}")

    def choose_image(self) -> None:
        from cnnstudio.ml.preprocess import IMAGE_SUFFIXES

        pattern = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Image to attack", "", f"Images ({pattern})")
        if path:
            self.load_image(path)

    def load_image(self, path) -> bool:
        """Attack the image file at ``path`` (prepared for the current model); False with a message if not."""
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.robustness.subject import image_pixels

        if self.lab.subject is None:
            self.message.setText("Train a model or open a run first; then open the image.")
            return False
        try:
            self.set_user_image(image_pixels(path, self.lab.subject.spec))
        except UserError as exc:
            self.message.setText(str(exc))
            return False
        return True

    def set_user_image(self, pixels) -> None:
        self.user_image = pixels
        self.index.setEnabled(pixels is None)
        self.back.setEnabled(pixels is not None)
        self.attack_image()

    def run_curve(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import epsilon_job

        if self.lab.subject is None:
            return
        self.plot.reset()
        self.plot.setYRange(0, 1)
        self.curves = {}
        self._items = {name: self.plot.line(name, i, dashed=name == "PGD targeted")
                       for i, name in enumerate(("FGSM", "PGD", "PGD targeted"))}
        self._items["target hit"] = self.plot.line("targeted: target hit", 3, dashed=True)
        self.start(epsilon_job, self.lab.subject, list(EPSILONS), text="Attacking the validation set…",
                   on_partial=self._partial, on_done=self._done)

    def _partial(self, kind: str, value) -> None:
        label, row = value
        rows = self.curves.setdefault(label, [])
        rows.append(row)
        self._items[label].setData([r["eps"] for r in rows], [r["accuracy"] for r in rows])
        if label == "PGD targeted":
            self._items["target hit"].setData([r["eps"] for r in rows], [r["target_hit"] for r in rows])

    def _done(self, curves) -> None:
        self.curves = curves
        parts = [f"eps {r['eps']:g}: FGSM {r['accuracy']:.0%}, PGD {p['accuracy']:.0%}"
                 for r, p in zip(curves["FGSM"], curves["PGD"]) if r["eps"] in (0.0, 0.05, 0.1, 0.2)]
        self.message.setText("; ".join(parts))
