"""The Train workspace: settings, Start / Pause / Stop, progress, live curves, confusion matrix, run history.

Training runs on the workspace's :class:`~cnnstudio.gui.workers.WorkerGroup` (:func:`job.training_job`);
its events arrive here on the GUI thread and redraws are throttled. Nothing on the worker touches a widget.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.numbers import human_number
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.theme import set_tone
from cnnstudio.gui.widgets.pause_button import PauseButton
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.train.cluster_dialog import open_cluster_dialog
from cnnstudio.gui.workspaces.train.confusion import CellImages, ConfusionPanel, ConfusionView
from cnnstudio.gui.workspaces.train.curves import CurvesView
from cnnstudio.gui.workspaces.train.history import RunHistoryTable
from cnnstudio.gui.workspaces.train.results_area import ResultsArea
from cnnstudio.gui.workspaces.train.settings_form import TrainingSettingsForm

#: redraws of progress and curves at most this often (ms)
REFRESH_MS = 100


class Workspace(WorkspaceBase):
    """Train the project's network on the project's data and watch it learn."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        from superqt.utils import qthrottled

        self._control = None
        self._done: threading.Event | None = None
        self._workers = WorkerGroup(self)  # the training run; empty when none is left to deliver
        self._run_dir: Path | None = None
        self._rows: list[dict] = []
        self._last_batch = None
        self._epochs = 0
        self._confusion: np.ndarray | None = None
        self._predictions: np.ndarray | None = None
        self._data = None  # job.DataReady of the current run
        self._cell: tuple[int, int] | None = None  # the confusion cell whose images are shown
        self._orphaned = False  # the running job belongs to a project that was closed: draw nothing of it
        self.result = None  # the last Finished or Failed event
        self._refresh_throttled = qthrottled(self._refresh_live, timeout=REFRESH_MS)

        # --- left: settings and controls ---
        self.form = TrainingSettingsForm(ctx)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the Designer's network on the Data workspace's dataset (Ctrl+Return)")
        self.pause_button = PauseButton(
            lambda: self._control, "Hold training after the current batch; press again to continue"
        )
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "Stop after the current batch (Ctrl+.); the run can be resumed from its last epoch"
        )
        for keys, slot in (("Ctrl+Return", self.start), ("Ctrl+Enter", self.start), ("Ctrl+.", self.stop)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.start_button.clicked.connect(self.start)
        self.pause_button.paused.connect(lambda: self.progress_label.setText("Paused."))
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label = QLabel("Ready.")
        self.progress_label.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # why Start is disabled (a network the Designer reports as invalid)
        self.blocker = QLabel("")
        self.blocker.setWordWrap(True)
        set_tone(self.blocker, "error")  # a red that reads in the light and the dark theme
        self.blocker.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.blocker.hide()
        # one-click repair when the network's outputs do not match the data's classes
        self.fix_button = QPushButton("")
        self.fix_button.setToolTip("Resize the network's last layer to the data's classes (undo with Ctrl+Z)")
        self.fix_button.clicked.connect(self.fit_network_to_data)
        self.fix_button.hide()
        self._fix_classes: tuple[str, ...] = ()
        self._network_problem: str | None = None
        self._stop_reason = ""  # why the app (not the user) stopped the run, shown when it ends
        settings_box = QGroupBox("Training settings")
        settings_layout = QVBoxLayout(settings_box)
        settings_layout.addWidget(self.form)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(settings_box)
        left_layout.addLayout(buttons)
        self.cluster_button = QPushButton("Run on a cluster…")  # scale-out: a torchrun / SLURM launch script
        self.cluster_button.setToolTip("Preview and save a launch script that trains this project on many GPUs "
                                       "or machines (torchrun, SLURM)")
        self.cluster_button.clicked.connect(lambda: open_cluster_dialog(self.ctx, self))
        left_layout.addWidget(self.cluster_button)
        left_layout.addWidget(self.blocker)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.progress_label)
        left_layout.addWidget(self.message)
        left_layout.addWidget(self.fix_button)
        left_layout.addStretch(1)
        for combo in self.form.findChildren(QComboBox):  # long choices must not widen the whole panel
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        left_scroll = QScrollArea()
        left_scroll.setWidget(left)
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QFrame.Shape.NoFrame)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = left_scroll.style().pixelMetric(left_scroll.style().PixelMetric.PM_ScrollBarExtent)
        left_scroll.setMinimumWidth(left.minimumSizeHint().width() + bar + 2)

        # --- right: curves, confusion matrix, history ---
        self.curves = CurvesView()
        self.confusion = ConfusionView()
        self.cell_images = CellImages()
        self.confusion.cell_chosen.connect(self.show_cell)
        self.history = RunHistoryTable()
        self.history.overlays_changed.connect(self._update_overlays)
        self.history.itemSelectionChanged.connect(self._update_buttons)
        self.history.itemSelectionChanged.connect(self._show_selected_run)
        self.history.setToolTip("Select a run to see its curves and confusion matrix; tick runs to overlay them")
        self.resume_button = QPushButton("Resume selected run")
        self.resume_button.setToolTip("Continue a cancelled run from its last finished epoch")
        self.resume_button.clicked.connect(self.resume_selected)
        history_box = QGroupBox("Run history")
        history_box.setToolTip("Tick runs to compare their validation curves; select one to see its results")
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(4, 4, 4, 4)
        history_layout.addWidget(self.history)
        row = QHBoxLayout()
        hint = QLabel("Tick runs to compare their validation curves.")
        hint.setWordWrap(True)
        row.addWidget(hint, 1)
        row.addWidget(self.resume_button)
        history_layout.addLayout(row)
        confusion_box = QGroupBox("Confusion matrix (validation)")
        confusion_layout = QHBoxLayout(confusion_box)
        confusion_layout.setContentsMargins(4, 4, 4, 4)
        confusion_layout.addWidget(ConfusionPanel(self.confusion), 3)
        confusion_layout.addWidget(self.cell_images, 2)
        self.results = ResultsArea([(confusion_box, "Confusion matrix"), (history_box, "Run history")])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.curves)
        right.addWidget(self.results)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left_scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(main)

        ctx.document.changed.connect(self._on_document_changed)
        ctx.document.replaced.connect(self._on_document_replaced)
        self.refresh_history()
        self._check_network()

    # --- state ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._done is not None and not self._done.is_set()

    @property
    def rows(self) -> list[dict]:
        """The epoch rows of the current (or last) run."""
        return list(self._rows)

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running and self._network_problem is None)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.form.set_running(running)
        selected = self.history.selected_run()
        self.resume_button.setEnabled(not running and selected is not None and selected.resumable)

    # --- start / pause / stop ------------------------------------------------------------------
    def start(self) -> None:
        """Start a new run of the document's network, data and training settings."""
        if self.running or self._network_problem is not None:
            return
        from cnnstudio.ml.runs import new_run_dir

        doc = self.ctx.document
        spec = doc.get("network")
        run_dir = new_run_dir(doc.runs_root(), str(spec.get("name") or "run"))
        record = {
            "name": run_dir.name,
            "path": self._record_path(run_dir),
            "network": str(spec.get("name", "")),
            "data": str(doc.get("data").get("source", "")),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        doc.add_run(record)
        self._launch(spec, doc.get("data"), doc.get("training"), run_dir, resume=False)

    def resume_selected(self) -> None:
        run = self.history.selected_run()
        if run is None or self.running:
            return
        self._launch(None, None, None, run.path, resume=True)

    def _record_path(self, run_dir: Path) -> str:
        project = self.ctx.document.path
        if project is not None:
            try:
                return str(run_dir.relative_to(project.parent))
            except ValueError:
                pass
        return str(run_dir)

    def _launch(self, spec, data, training, run_dir: Path, resume: bool) -> None:
        from cnnstudio.gui.workspaces.train.job import training_job
        from cnnstudio.ml.train_events import TrainControl

        self._control = TrainControl()
        self._done = threading.Event()
        self._run_dir = Path(run_dir)
        self._rows, self._last_batch, self._confusion, self._predictions, self._data = [], None, None, None, None
        self.result = None
        self._epochs = 0
        self._orphaned = False
        self._forget_cell()
        self.message.setText("")
        self._stop_reason = ""
        self._show_fix(())
        self.progress.setRange(0, 0)
        self.progress_label.setText("Loading data…" if not resume else f"Resuming {self._run_dir.name}…")
        self.curves.set_history([])
        self.pause_button.reset()
        self._workers.run(training_job, spec, data, training, str(run_dir), self._control, self._done, resume,
                          cancel=self._control.cancel, on_yield=self._on_event, on_finish=self._on_worker_finished)
        self._update_buttons()

    def stop(self) -> None:
        if self._control is not None:
            self._control.cancel()
            self.progress_label.setText("Stopping…")

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the worker thread ended (for tests and shutdown)."""
        return self._done.wait(timeout) if self._done is not None else True

    # --- events from the worker -----------------------------------------------------------------
    def _on_event(self, event) -> None:
        from cnnstudio.gui.workspaces.train.job import DataReady
        from cnnstudio.ml.train_events import BatchEnd, EpochEnd, Failed, Finished, Started

        if self._orphaned and isinstance(event, (BatchEnd, EpochEnd, DataReady, Started)):
            return  # a run of the project that was closed: this project's views stay as they are
        if isinstance(event, BatchEnd):
            self._last_batch = event
            self._refresh_throttled()
        elif isinstance(event, EpochEnd):
            self._rows.append(dict(event.metrics))
            self._confusion = event.confusion
            self._predictions = event.val_predictions
            self.history.set_active_progress(self._run_dir, event.epoch, self._epochs or event.epoch)
            self._refresh_throttled()
        elif isinstance(event, DataReady):
            self._data = event
        elif isinstance(event, Started):
            self._epochs = event.epochs
            self.curves.plan_epochs(event.epochs)
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
            self._rows = [r for r in self._load_rows() if r.get("epoch", 0) < event.start_epoch]
            amp = ", mixed precision" if event.mixed_precision else ""
            self.progress_label.setText(
                f"Training on {event.device}{amp}: {event.train_size} training, {event.val_size} validation images."
            )
            self.ctx.show_status(f"Training started: {Path(event.run_dir).name}")
            self.refresh_history()  # the new run is listed (as running) from its first batch
        elif isinstance(event, Finished):
            self.result = event
            self._refresh_throttled.cancel()
            if not self._orphaned:
                self._refresh_live()
            if event.status != "cancelled":
                self.progress.setValue(self.progress.maximum())
            summary = _metrics_summary(event.metrics)
            text = {"completed": "Finished", "early_stopped": "Stopped early", "cancelled": "Stopped"}[event.status]
            self.progress_label.setText(f"{text}. {summary}".strip())
            self.message.setText(self._stop_reason or event.message)
            self.ctx.show_status(f"Training {event.status.replace('_', ' ')}: {Path(event.run_dir).name}")
        elif isinstance(event, Failed):
            self.result = event
            self._refresh_throttled.cancel()
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            stopped = self._control is not None and self._control.cancelled
            self.progress_label.setText("Stopped." if stopped else "Training failed.")
            self.message.setText(self._stop_reason or event.message)
            self.ctx.show_status("Training stopped." if stopped else "Training failed.")
            self._forget_run_without_folder()
            self._offer_class_fix()

    def _forget_run_without_folder(self) -> None:
        """A run that failed before it wrote anything (bad data, say) leaves no record behind."""
        from cnnstudio.ml.runs import is_run_dir

        if self._run_dir is None or is_run_dir(self._run_dir):
            return
        doc = self.ctx.document
        kept = [r for r in doc.runs if Path(doc.run_dir(r)) != self._run_dir]
        if len(kept) != len(doc.runs):
            doc.set("runs", kept)

    def _load_rows(self) -> list[dict]:
        from cnnstudio.ml.runs import read_history

        return read_history(self._run_dir) if self._run_dir is not None else []

    def _on_worker_finished(self) -> None:
        self._update_buttons()
        self.refresh_history()
        result = self.result
        if getattr(result, "status", "") == "cancelled" and not self._stop_reason:
            # one click to go on: the stopped run is selected, next to its Resume button
            for row, run in enumerate(self.history.runs):
                if self._run_dir is not None and Path(run.path) == self._run_dir and run.resumable:
                    self.history.blockSignals(True)  # keep the "Stopped." summary; the view shows this run already
                    self.history.selectRow(row)
                    self.history.blockSignals(False)
                    self._update_buttons()
                    self.message.setText(f"{result.message.rstrip('.')} with “Resume selected run”.")
                    break

    def _refresh_live(self) -> None:
        """Redraw progress, curves and the confusion matrix from the newest events (throttled)."""
        ev = self._last_batch
        if ev is not None and ev.images_total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, ev.images_done / ev.images_total)))
            rate = ev.images_done / ev.elapsed if ev.elapsed > 0 else 0.0
            eta = (ev.images_total - ev.images_done) / rate if rate > 0 else 0.0
            last = self._rows[-1] if self._rows else {}
            acc = f" · val acc {human_number(last['val_accuracy'])}" if "val_accuracy" in last else ""
            if not (self._control is not None and self._control.paused):
                self.progress_label.setText(
                    f"Epoch {ev.epoch}/{ev.epochs} · batch {ev.batch}/{ev.batches} · {rate:,.0f} images/s · "
                    f"ETA {_duration(eta)}{acc}"
                )
        self.curves.set_history(self._rows)
        if self._confusion is not None:
            classes = self._data.classes if self._data is not None else tuple(str(i) for i in range(len(self._confusion)))
            self.confusion.set_matrix(self._confusion, classes)
            if self._cell is not None:
                self.show_cell(*self._cell)  # the drill-down follows the newest epoch

    # --- confusion matrix cells ------------------------------------------------------------------
    def show_cell(self, true_class: int, predicted: int) -> None:
        """List the validation images of true class ``true_class`` predicted as ``predicted``.

        The cell is remembered: its images are listed again after every epoch of the run shown.
        """
        self._cell = (true_class, predicted)
        if self._data is None or self._predictions is None or len(self._predictions) != len(self._data.val_labels):
            self.cell_images.show_images(
                "The images of a cell are shown for a run trained in this session; train one to see them.",
                np.zeros((0, 1, 1, 3), np.uint8), [],
            )
            return
        names = self._data.classes
        hits = np.nonzero((self._data.val_labels == true_class) & (self._predictions == predicted))[0]
        what = "correctly classified" if true_class == predicted else f"predicted as '{names[predicted]}'"
        noun = "image" if len(hits) == 1 else "images"
        title = f"{len(hits)} validation {noun} of '{names[true_class]}' {what}"
        if len(hits) > 200:
            title += " (first 200 shown)"
        self.cell_images.show_images(title + ".", self._data.val_images[hits], [f"#{i}" for i in hits])

    # --- does the network fit? -----------------------------------------------------------------------
    def _check_network(self) -> None:
        """Disable Start, saying why, while the Designer's network is invalid.

        The class count is left out here: it depends on the data (which loads only when training
        starts) and a network without class names gets the data's; a mismatch is offered a fix.
        """
        from cnnstudio.core.inference import infer
        from cnnstudio.core.spec_edit import classes_fit, with_placeholder_classes

        spec = self.ctx.document.get("network")
        problems = infer(with_placeholder_classes(spec)).problems
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self._network_problem = problems[0]
            self.blocker.setText(
                f"Start is off: the network has a problem{more}. {problems[0]} Fix it in the Designer."
            )
        else:
            self._network_problem = None
            self.blocker.setText("")
        self.blocker.setVisible(bool(problems))
        if self._fix_classes and classes_fit(spec, self._fix_classes) is not False:
            self._show_fix(())  # fixed by hand in the Designer meanwhile
        self._update_buttons()

    def _offer_class_fix(self) -> None:
        """After a failed start: when the network's outputs do not match the data's classes, offer a fix."""
        if self._data is None:
            return
        from cnnstudio.core.data_fit import check_fit

        classes = tuple(self._data.classes)
        fit = check_fit(self.ctx.document.get("network"), self._data.task, classes)
        if fit.task_problem is None and fit.classes is False:
            self._show_fix(classes)

    def _show_fix(self, classes: tuple[str, ...]) -> None:
        self._fix_classes = tuple(classes)
        if classes:
            listed = ", ".join(classes[:12]) + (", …" if len(classes) > 12 else "")
            self.fix_button.setText(f"Fit the network to the data's {len(classes)} classes")
            self.fix_button.setToolTip(
                f"Resize the last layer to {len(classes)} outputs named {listed} (one step; Ctrl+Z undoes it)"
            )
        self.fix_button.setVisible(bool(classes))

    def fit_network_to_data(self) -> None:
        """Resize the last layer to the data's classes and name them (one undoable edit)."""
        from cnnstudio.core.data_fit import fit_to_classes
        from cnnstudio.core.errors import UserError

        classes = self._fix_classes
        if not classes:
            return
        try:
            spec = fit_to_classes(self.ctx.document.get("network"), classes)
        except UserError as exc:
            self.message.setText(f"{exc} Edit it in the Designer.")
            self._show_fix(())
            return
        self.ctx.edit("network", spec, f"Fit the network to {len(classes)} classes")
        self._show_fix(())
        self.message.setText(
            f"The network now ends in {len(classes)} outputs named after the data's classes "
            "(Ctrl+Z undoes it). Press Start to train."
        )
        self.ctx.show_status(f"Network fitted to {len(classes)} classes")

    # --- run history ---------------------------------------------------------------------------
    def refresh_history(self) -> None:
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.runs import is_run_dir, load_run

        runs = []
        for record in self.ctx.document.runs:
            try:
                path = self.ctx.document.run_dir(record)
            except (KeyError, TypeError):
                continue
            if not is_run_dir(path):
                continue
            try:
                runs.append(load_run(path))
            except UserError:
                continue
        self.history.set_runs(runs, self._run_dir if self.running else None)
        self._update_buttons()

    def _show_selected_run(self) -> None:
        """Show a finished run picked in the history: its curves, confusion matrix and result."""
        run = self.history.selected_run()
        if run is None or self.running:
            return
        if self._run_dir is not None and Path(run.path) == self._run_dir and self._data is not None:
            rows = self._load_rows()  # the run of this session: keep its images for the cells
        else:
            rows = list(run.history)
            self._data, self._predictions = None, None
        if self._run_dir != Path(run.path) or self._data is None:
            self._forget_cell()  # another run: the old cell's images are not this run's
        self._run_dir = Path(run.path)
        self._rows, self._last_batch = rows, None
        self.curves.plan_epochs(None)
        self.curves.set_history(rows)
        confusion = run.summary.get("confusion")
        if isinstance(confusion, list) and confusion:
            self._confusion = np.asarray(confusion, dtype=np.int64)
            classes = run.spec.get("classes") or [str(i) for i in range(len(confusion))]
            self.confusion.set_matrix(self._confusion, classes)
            if self._cell is not None:
                self.show_cell(*self._cell)
        else:
            self._confusion = None
            self.confusion.clear_matrix()
        summary = _metrics_summary(run.final)
        self.progress_label.setText(f"{run.name}: {run.status.replace('_', ' ')}, "
                                    f"{run.epochs_done} epochs. {summary}".strip())
        self.message.setText(str(run.summary.get("message", "")))

    def _update_overlays(self) -> None:
        self.curves.set_overlays(self.history.checked_runs())

    # --- document -------------------------------------------------------------------------------
    def _on_document_changed(self, section: str) -> None:
        if section == "training":
            self.form.sync_from_document()
        elif section == "network":
            self.form.sync_from_document()  # the rows of the network's task
            self._check_network()
        elif section == "runs":
            self.refresh_history()

    def _on_document_replaced(self) -> None:
        if self.running:  # the run belongs to the project that was just closed
            self.stop()
            self._stop_reason = ("Training stopped because another project was opened; the run stays in "
                                 "the previous project's runs folder.")
            self.message.setText(self._stop_reason)
            self._orphaned = True
        self._clear_views()
        self.form.sync_from_document()
        self.refresh_history()
        self._check_network()
        self._show_fix(())

    def _forget_cell(self) -> None:
        self._cell = None
        self.cell_images.clear()

    def _clear_views(self) -> None:
        """Another project: no curves, matrix, cell images or result of the previous one."""
        self._rows, self._last_batch, self._confusion, self._predictions, self._data = [], None, None, None, None
        if not self.running:
            self._run_dir = None
            self.result = None
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress_label.setText("Ready.")
        self._refresh_throttled.cancel()
        self._forget_cell()
        self.curves.plan_epochs(None)
        self.curves.set_history([])
        self.curves.set_overlays([])
        self.confusion.clear_matrix()

    # --- lifecycle ------------------------------------------------------------------------------
    def activated(self) -> None:
        if not self.running:
            self.refresh_history()

    def shutdown(self) -> None:
        self.ctx.document.changed.disconnect(self._on_document_changed)
        self.ctx.document.replaced.disconnect(self._on_document_replaced)
        self._refresh_throttled.cancel()
        self._workers.shutdown(60)  # cancels the run through its control: the run folder says "cancelled"


def _metrics_summary(metrics: dict) -> str:
    """"val accuracy 0.972, val loss 0.0891, ...": the validation numbers a run finished with."""
    return ", ".join(f"{k.replace('_', ' ')} {human_number(metrics[k])}"
                     for k in ("val_accuracy", "val_loss", "val_iou", "val_map50")
                     if isinstance(metrics.get(k), (int, float)))


def _duration(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(round(seconds))), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
