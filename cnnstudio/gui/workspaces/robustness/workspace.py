"""The Lab: transfer learning and where networks fail (adversarial examples, natural transformations,
dataset bias) and adversarial fairness, one tab each.

Long work runs on the workspace's :class:`cnnstudio.gui.workers.WorkerGroup` (jobs.py); the Adversarial
and Shifts tabs share one model (:attr:`Workspace.subject`), trained here in seconds or read from a run.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.robustness.widgets import ProgressLine

SUBJECT_TAG = "subject"


class Workspace(WorkspaceBase):
    #: images go to the Adversarial tab (attacked with the loaded model)
    accepted_suffixes = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")
    #: the model of the Adversarial and Shifts tabs changed (a Subject or None)
    subject_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        from cnnstudio.gui.workspaces.robustness.adversarial_tab import AdversarialTab
        from cnnstudio.gui.workspaces.robustness.bias_tab import BiasTab
        from cnnstudio.gui.workspaces.robustness.fairness_tab import FairnessTab
        from cnnstudio.gui.workspaces.robustness.shifts_tab import ShiftsTab
        from cnnstudio.gui.workspaces.robustness.transfer_tab import TransferTab

        self.workers = WorkerGroup(self)
        self.subject = None
        layout = QVBoxLayout(self)
        self.model_bar = QWidget()
        bar = QHBoxLayout(self.model_bar)
        bar.setContentsMargins(4, 0, 4, 0)
        self.model_label = QLabel("Model: none yet. Attacks and transformations need a trained model.")
        self.model_label.setWordWrap(True)  # a long run name wraps; it never widens the window
        self.train_button = QPushButton("Train LeNet-5 on digits")
        self.train_button.setToolTip("Train the model the Adversarial and Shifts tabs study (a few seconds, "
                                     "no augmentation) (Ctrl+T)")
        self.train_button.setShortcut("Ctrl+T")
        self.train_button.clicked.connect(self.train_subject)
        self.open_button = QPushButton("Open run…")
        self.open_button.setToolTip("Use a run folder's model and its dataset instead")
        self.open_button.clicked.connect(self.open_run)
        self.subject_progress = ProgressLine()
        self.subject_progress.setMaximumWidth(360)
        bar.addWidget(self.model_label, 1)
        bar.addWidget(self.subject_progress)
        bar.addWidget(self.train_button)
        bar.addWidget(self.open_button)
        layout.addWidget(self.model_bar)
        self.tabs = QTabWidget()
        self.transfer = TransferTab(self.workers)
        self.adversarial = AdversarialTab(self.workers, self)
        self.shifts = ShiftsTab(self.workers, self)
        self.bias = BiasTab(self.workers)
        self.fairness = FairnessTab(self.workers)
        for tab, title, tip in (
            (self.transfer, "Transfer", "Pretrained backbone against training from scratch"),
            (self.adversarial, "Adversarial", "FGSM and PGD: the panda example and accuracy against epsilon"),
            (self.shifts, "Shifts", "Accuracy under shifts, rotations, scale, noise, blur, brightness; the fix"),
            (self.bias, "Bias", "A spurious colour cue, its saliency, and two fixes"),
            (self.fairness, "Fairness", "Adversarial debiasing: parity and equalized-odds gaps"),
        ):
            index = self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(index, tip)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        for keys in ("Esc", "Ctrl+."):  # Ctrl+. stops as in Train and Experiments
            stop = QShortcut(QKeySequence(keys), self)
            stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            stop.activated.connect(lambda: self.tabs.currentWidget().stop())
        self._tab_changed()

    def _tab_changed(self, *_args) -> None:
        self.model_bar.setVisible(self.tabs.currentWidget() in (self.adversarial, self.shifts))

    # --- the shared model ---------------------------------------------------------------------------
    def set_subject(self, subject) -> None:
        self.subject = subject
        if subject is not None:
            acc = ""
            from cnnstudio.ml.robustness.subject import accuracy

            acc = f", validation accuracy {accuracy(subject.model, subject.data.val_x, subject.data.val_y):.1%}"
            self.model_label.setText(f"Model: {subject.name} ({len(subject.data.val_x)} validation images{acc})")
        self.subject_changed.emit(subject)

    def train_subject(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import train_subject_job
        from cnnstudio.ml.train_events import TrainControl

        control = TrainControl()
        self._run_subject_job(train_subject_job, control, text="Training…", cancel=control.cancel)

    def open_run(self, path: str | None = None) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import subject_from_run_job

        if not path:
            path = QFileDialog.getExistingDirectory(self, "Run folder")
        if path:
            self._run_subject_job(subject_from_run_job, str(path), text="Loading the run…")

    def _run_subject_job(self, func, *args, text: str, cancel=None) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import Step

        self.subject_progress.begin(text)
        self.train_button.setEnabled(False)
        self.open_button.setEnabled(False)

        def on_yield(item):
            if isinstance(item, Step):
                self.subject_progress.set_fraction(item.fraction, item.text)

        def on_done(subject):
            self.subject_progress.done("Ready.")
            self.set_subject(subject)

        def on_error(sentence: str):
            self.subject_progress.failed("Failed.")
            self.model_label.setText(sentence)

        def on_finish():
            self.train_button.setEnabled(True)
            self.open_button.setEnabled(True)

        self.workers.run(func, *args, tag=SUBJECT_TAG, on_yield=on_yield, on_done=on_done, on_error=on_error,
                         on_finish=on_finish, cancel=cancel, failure="The model could not be prepared")

    # --- workspace API ------------------------------------------------------------------------------
    def open_file(self, path) -> bool:
        from pathlib import Path

        from cnnstudio.ml.runs import is_run_dir

        path = Path(path)
        if path.is_dir() and is_run_dir(path):
            self.tabs.setCurrentWidget(self.adversarial)
            self.open_run(str(path))
            return True
        if path.suffix.lower() in self.accepted_suffixes:
            self.tabs.setCurrentWidget(self.adversarial)
            return self.adversarial.load_image(path)
        return False

    def busy(self) -> bool:
        return self.workers.busy()

    def wait(self, timeout: float = 60.0) -> bool:
        return self.workers.wait(timeout)

    def shutdown(self) -> None:
        self.workers.shutdown()
