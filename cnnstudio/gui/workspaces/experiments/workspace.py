"""The Experiments workspace: a hyperparameter search (grid, random, TPE, GP on Optuna) over the project's
network, data and training settings, with live progress, plots of the study, and the lecture's comparison.

The search space and the study settings live in the project's "experiments" section (undoable edits);
the study itself lives in its Optuna storage (a SQLite file beside the project by default), so a study
interrupted by Cancel or by closing the app resumes with Start. Each trial is a run folder recorded in the
project's runs (Train's history lists it; double-click a trial to open it in Inspect). The work runs on a
:class:`cnnstudio.gui.workers.WorkerGroup`; nothing on the worker touches a widget.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiments import normalize_experiments, study_slug
from cnnstudio.core.search_space import SearchSpace
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.widgets.pause_button import PauseButton
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.experiments.plots import (
    ComparisonPlot,
    HistoryPlot,
    ImportancePlot,
    ParallelPlot,
    SlicePlot,
)
from cnnstudio.gui.workspaces.experiments.space_editor import SpaceEditor

SAMPLER_ITEMS = (
    ("tpe", "Bayesian (TPE)", "Tree-structured Parzen Estimator: a few random trials, then samples where good "
                              "results were"),
    ("gp", "Bayesian (Gaussian process)", "Models the value with a Gaussian process; best for a few numeric "
                                          "dimensions"),
    ("random", "Random search", "Every trial drawn independently from the space"),
    ("grid", "Grid search", "Every combination of the grid points (the Grid column)"),
)
PRUNER_ITEMS = (
    ("median", "Median", "Stop a trial whose epoch is worse than the median of earlier trials at that epoch"),
    ("hyperband", "Hyperband", "Successive halving of the epochs over several brackets"),
    ("none", "None", "Every trial runs all its epochs"),
)
STATE_COLOURS = {"complete": None, "pruned": "#8a6d00", "failed": "#b00020", "interrupted": "#6b6b6b",
                 "running": "#1f77b4", "waiting": "#6b6b6b"}


class Workspace(WorkspaceBase):
    """Search the training settings and layer parameters for the best validation accuracy."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        from superqt.utils import qthrottled

        self.workers = WorkerGroup(self)
        self._control = None
        self._job = ""  # "study" or "compare" while one runs
        self._budget = 0
        self._done_before = 0
        self._trials_done = 0
        self._trial_seconds: list[float] = []
        self._trial_started = 0.0
        self._current_trial: int | None = None
        self._best: tuple[int | None, float | None] = (None, None)
        self._snapshot = None
        self._rows: list[dict] = []
        self.result = None  # the last StudyDone or ComparisonDone
        self._compare_index = 0
        self._compare_total = 0
        self._refresh_throttled = qthrottled(self.refresh_results, timeout=400)

        # --- left: space, study settings, controls ---
        self.space_editor = SpaceEditor()
        self.space_editor.space_edited.connect(self._space_edited)
        self.space_editor.problem.connect(self._show_problem)
        space_box = QGroupBox("Search space")
        QVBoxLayout(space_box).addWidget(self.space_editor)

        self.sampler = QComboBox()
        for key, title, tip in SAMPLER_ITEMS:
            self.sampler.addItem(title, key)
            self.sampler.setItemData(self.sampler.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.sampler.setToolTip("How the next trial's values are chosen")
        self.pruner = QComboBox()
        for key, title, tip in PRUNER_ITEMS:
            self.pruner.addItem(title, key)
            self.pruner.setItemData(self.pruner.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.pruner.setToolTip("Stop poor trials early, judged from their validation accuracy after each epoch")
        self.trials = QSpinBox()
        self.trials.setRange(1, 10_000)
        self.trials.setToolTip("Trials the study runs in all (with those of earlier sessions)")
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 100_000)
        self.epochs.setToolTip("Epochs of each trial; 0 takes the Train workspace's setting")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the sampler (the same seed proposes the same trials)")
        self.study = QLineEdit()
        self.study.setToolTip("The study's name in its storage; a new name starts a new study")
        self.storage = QLineEdit()
        self.storage.setToolTip("Where the study lives: empty = a SQLite file beside the project; or "
                                "sqlite:///FILE.db, postgresql://USER:PW@HOST/DB, journal:FILE.log")
        for widget in (self.sampler, self.pruner):
            widget.currentIndexChanged.connect(lambda _i: self._settings_edited())
        for widget in (self.trials, self.epochs, self.seed):
            widget.valueChanged.connect(lambda _v: self._settings_edited())
        for widget in (self.study, self.storage):
            widget.editingFinished.connect(self._settings_edited)
        form = QFormLayout()
        form.addRow("Sampler", self.sampler)
        form.addRow("Pruner", self.pruner)
        form.addRow("Trials", self.trials)
        form.addRow("Epochs per trial", self.epochs)
        form.addRow("Seed", self.seed)
        form.addRow("Study", self.study)
        form.addRow("Storage", self.storage)
        study_box = QGroupBox("Study")
        study_box.setLayout(form)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Run the study, or resume it where it stopped (Ctrl+Return)")
        self.start_button.clicked.connect(self.start)
        self.pause_button = PauseButton(
            lambda: self._control, "Hold the running trial after its current batch; press again to go on"
        )
        self.pause_button.paused.connect(
            lambda: self.progress_label.setText("Paused (the running trial holds after its current batch).")
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop within the current epoch (Ctrl+.); Start resumes the study and "
                                      "repeats the unfinished trial")
        self.cancel_button.clicked.connect(self.cancel)
        self.compare_button = QPushButton("Compare grid · random · TPE")
        self.compare_button.setToolTip("The lecture's comparison: grid search, random search and TPE on the same "
                                       "space, budget (Trials) and seed; plots the best so far of each")
        self.compare_button.clicked.connect(self.compare)
        for keys, slot in (("Ctrl+Return", self.start), ("Ctrl+Enter", self.start), ("Ctrl+.", self.cancel)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label = QLabel("Ready.")
        self.progress_label.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020;")
        self.problem_label.hide()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(space_box, 1)
        left_layout.addWidget(self.problem_label)
        left_layout.addWidget(study_box)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.compare_button)
        from cnnstudio.gui.workspaces.experiments.follow import StudyFollower

        self.follower = StudyFollower(self)  # scale-out: Refresh / Follow a shared study, its cluster script
        left_layout.addWidget(self.follower)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.progress_label)
        left_layout.addWidget(self.message)

        # --- right: plots and the trials table ---
        self.history_plot = HistoryPlot()
        self.parallel_plot = ParallelPlot()
        self.importance_plot = ImportancePlot()
        self.slice_plot = SlicePlot()
        self.comparison_plot = ComparisonPlot()
        self.tabs = QTabWidget()
        for widget, title, tip in (
            (self.history_plot, "History", "Each trial's value and the best so far; click a point to open its run"),
            (self.parallel_plot, "Parallel coordinates", "Every trial as a line through its values; click one"),
            (self.importance_plot, "Importances", "Which dimensions matter most (fANOVA)"),
            (self.slice_plot, "2-D slice", "Two dimensions against each other, coloured by the value"),
            (self.comparison_plot, "Grid vs random vs TPE", "The lecture's comparison"),
        ):
            self.tabs.setTabToolTip(self.tabs.addTab(widget, title), tip)
        for plot in (self.history_plot, self.parallel_plot, self.slice_plot):
            plot.trial_chosen.connect(self.open_trial)
        self.slice_plot.axes_changed.connect(lambda _x, _y: self.refresh_results())
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setToolTip("The study's trials; double-click one to open its run in Inspect")
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.open_button = QPushButton("Open in Inspect")
        self.open_button.setToolTip("Open the selected trial's run in the Inspect workspace")
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))
        table_box = QGroupBox("Trials")
        table_layout = QVBoxLayout(table_box)
        table_layout.addWidget(self.table)
        row = QHBoxLayout()
        self.best_label = QLabel("")
        self.best_label.setWordWrap(True)
        row.addWidget(self.best_label, 1)
        row.addWidget(self.open_button)
        table_layout.addLayout(row)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.tabs)
        right.addWidget(table_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([460, 820])
        layout = QHBoxLayout(self)
        layout.addWidget(main)

        ctx.document.changed.connect(self._on_document_changed)
        ctx.document.replaced.connect(self._on_document_replaced)
        self.sync_from_document()
        self._update_buttons()

    # --- the document --------------------------------------------------------------------------------
    def section(self) -> dict:
        return self.ctx.document.get("experiments")

    def space(self) -> SearchSpace:
        return SearchSpace.from_dict(self.section()["space"])

    def sync_from_document(self) -> None:
        """Show the document's experiments section (never writes back)."""
        section = self.section()
        spec = self.ctx.document.get("network")
        self.space_editor.set_space(SearchSpace.from_dict(section["space"]), spec)
        widgets = (self.sampler, self.pruner, self.trials, self.epochs, self.seed, self.study, self.storage)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.sampler.setCurrentIndex(max(0, self.sampler.findData(section["sampler"])))
            self.pruner.setCurrentIndex(max(0, self.pruner.findData(section["pruner"])))
            self.trials.setValue(int(section["trials"]))
            self.epochs.setValue(int(section["epochs"]))
            self.epochs.setSpecialValueText(f"from Train ({self.ctx.document.get('training').get('epochs', '?')})")
            self.seed.setValue(int(section["seed"] or 0))
            self.study.setText(section["study"])
            self.storage.setText(section["storage"])
            self.storage.setPlaceholderText(self.default_storage())
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._check_space()

    def _edit(self, section: dict, text: str, merge_key: str | None = None) -> None:
        try:
            section = normalize_experiments(section)
        except UserError as exc:
            self._show_problem(str(exc))
            self.sync_from_document()
            return
        self.ctx.edit("experiments", section, text, merge_key)

    def _space_edited(self, space: SearchSpace) -> None:
        section = self.section()
        section["space"] = space.to_dict()
        self._edit(section, "Edit the search space")

    def _settings_edited(self) -> None:
        section = self.section()
        new = dict(section, sampler=self.sampler.currentData(), pruner=self.pruner.currentData(),
                   trials=self.trials.value(), epochs=self.epochs.value(), seed=self.seed.value(),
                   study=self.study.text().strip() or "study", storage=self.storage.text().strip())
        if new != section:
            study_changed = (new["study"], new["storage"]) != (section["study"], section["storage"])
            self._edit(new, "Edit the study settings", merge_key="experiments-settings")
            if study_changed:
                self.refresh_results()

    def _on_document_changed(self, name: str) -> None:
        if name == "experiments":
            self.sync_from_document()
            self._update_buttons()
        elif name in ("network", "training"):
            self.sync_from_document()

    def _on_document_replaced(self) -> None:
        if self.running:
            self.cancel()
            self.message.setText("The study stopped because another project was opened; it resumes with Start "
                                 "when that project is open again.")
        self.sync_from_document()
        self.refresh_results()

    def _check_space(self) -> list[str]:
        problems = self.space().problems(self.ctx.document.get("network"))
        self._show_problem(problems[0] if problems else "")
        self._space_problems = problems
        self._update_buttons()
        return problems

    def _show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.setVisible(bool(text))

    # --- where things go -----------------------------------------------------------------------------
    def default_storage(self) -> str:
        """``<project>.optuna.db`` beside the project file; for an unsaved project, in the runs folder."""
        project = self.ctx.document.path
        path = project.with_suffix(".optuna.db") if project is not None else self.ctx.document.runs_root() / "experiments.optuna.db"
        return f"sqlite:///{path}"

    def storage_url(self) -> str:
        return self.section()["storage"] or self.default_storage()

    def out_dir(self, study: str) -> Path:
        return self.ctx.document.runs_root() / f"hpo-{study_slug(study)}"

    def _trial_training(self, section: dict) -> dict:
        training = self.ctx.document.get("training")
        if section["epochs"]:
            training["epochs"] = int(section["epochs"])
        return training

    # --- running ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._job) and self.workers.busy()

    def _update_buttons(self) -> None:
        running = bool(self._job)
        ok = not getattr(self, "_space_problems", [])
        self.start_button.setEnabled(not running and ok)
        self.compare_button.setEnabled(not running and ok)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        for w in (self.space_editor, self.sampler, self.pruner, self.trials, self.epochs, self.seed, self.study,
                  self.storage):
            w.setEnabled(not running)
        snap = self._snapshot
        resumable = snap is not None and snap.exists and 0 < _done_count(snap) < int(self.section()["trials"])
        self.start_button.setText("Resume" if resumable and not running else "Start")

    def start(self) -> None:
        """Run (or resume) the study of the experiments section."""
        if self._job or self._check_space():
            return
        from cnnstudio.gui.workspaces.experiments.jobs import study_job
        from cnnstudio.ml.hpo.runner import StudySettings

        doc = self.ctx.document
        section = self.section()
        settings = StudySettings(storage=self.storage_url(), study=section["study"], sampler=section["sampler"],
                                 pruner=section["pruner"], trials=int(section["trials"]), seed=section["seed"],
                                 extra={"data": str(doc.get("data").get("source", ""))})
        try:
            settings.validate()
        except UserError as exc:
            self._show_problem(str(exc))
            return
        self._begin("study", f"Starting the study {settings.study}…")
        self.workers.run(study_job, doc.get("network"), doc.get("data"), self._trial_training(section),
                         section["space"], settings, str(self.out_dir(settings.study)), self._control, tag="study",
                         on_yield=self._on_event, on_error=self._on_error, on_finish=self._on_finished,
                         cancel=self._control.cancel, failure="The study stopped")

    def compare(self) -> None:
        """The lecture's comparison: grid, random and TPE on the same space, budget and seed."""
        if self._job or self._check_space():
            return
        from cnnstudio.gui.workspaces.experiments.jobs import comparison_job

        doc = self.ctx.document
        section = self.section()
        prefix = "compare-" + datetime.now().strftime("%Y%m%d-%H%M%S")
        self._compare_index, self._compare_total = 0, 3
        self.comparison_plot.clear()
        self.tabs.setCurrentWidget(self.comparison_plot)
        self._begin("compare", "Comparing grid search, random search and TPE…")
        self.workers.run(comparison_job, doc.get("network"), doc.get("data"), self._trial_training(section),
                         section["space"], int(section["trials"]), int(section["seed"] or 0), self.storage_url(),
                         prefix, str(self.out_dir(prefix)), self._control, tag="study",
                         on_yield=self._on_event, on_error=self._on_error, on_finish=self._on_finished,
                         cancel=self._control.cancel, failure="The comparison stopped")

    def _begin(self, job: str, text: str) -> None:
        from cnnstudio.ml.hpo.events import StudyControl

        self._control = StudyControl()
        self._job = job
        self._trial_seconds = []
        self._current_trial = None
        self.result = None
        self.message.setText("")
        self._show_problem("")
        self.progress.setRange(0, 0)
        self.progress_label.setText(text)
        self.pause_button.reset()
        self._update_buttons()

    def cancel(self) -> None:
        if self._control is not None and self._job:
            self._control.cancel()
            self.progress_label.setText("Stopping within the current epoch…")

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until the worker ended (tests and shutdown)."""
        return self.workers.wait(timeout)

    # --- events from the worker (GUI thread) --------------------------------------------------------------
    def _on_event(self, event) -> None:
        from cnnstudio.gui.workspaces.experiments.jobs import DataLoaded
        from cnnstudio.ml.hpo.compare import ComparisonDone, SamplerEvent
        from cnnstudio.ml.hpo.events import StudyDone, StudyStarted, TrialDone, TrialEpoch, TrialStarted

        prefix = ""
        if isinstance(event, SamplerEvent):
            self._compare_index = event.index
            prefix = f"{event.sampler} ({event.index + 1}/3): "
            inner = event.event
            if isinstance(inner, TrialDone):
                self._comparison_curve(event.sampler, inner)
            event = inner
        if isinstance(event, DataLoaded):
            self.progress_label.setText(f"Data loaded: {event.train:,} training and {event.val:,} validation images.")
        elif isinstance(event, StudyStarted):
            self._budget, self._done_before, self._trials_done = event.budget, event.trials_done, event.trials_done
            self._best = (None, None)
            self.progress.setRange(0, max(1, event.budget) * 100)
            self.progress.setValue(event.trials_done * 100)
            self._study_shown = event.study
            resumed = f", resuming after {event.trials_done} trials" if event.trials_done else ""
            self.progress_label.setText(f"{prefix}{event.sampler} study {event.study}: {event.budget} trials of "
                                        f"{event.epochs} epochs{resumed}.")
            if not self._job == "compare":
                self.refresh_results()
        elif isinstance(event, TrialStarted):
            self._current_trial = event.number
            self._trial_started = time.perf_counter()
            self._record_run(event)
            self._progress_text(prefix, f"trial {event.number} ({_params(event.params)})")
        elif isinstance(event, TrialEpoch):
            frac = event.epoch / max(1, event.epochs)
            self.progress.setValue(int((self._trials_done + frac) * 100))
            self._progress_text(prefix, f"trial {event.number}: epoch {event.epoch}/{event.epochs}, "
                                        f"val {event.value:.4f}")
        elif isinstance(event, TrialDone):
            self._trials_done = event.trials_done
            if event.state != "interrupted":
                self._trial_seconds.append(event.seconds)
            self._best = (event.best_number, event.best_value)
            self.progress.setValue(event.trials_done * 100)
            self._forget_run_without_folder(event)
            value = "—" if event.value is None else f"{event.value:.4f}"
            self._progress_text(prefix, f"trial {event.number} {event.state} ({value})")
            if event.state == "failed" and event.message:
                self.message.setText(f"Trial {event.number} failed: {event.message}")
            if self._job != "compare":
                self._refresh_throttled()
        elif isinstance(event, StudyDone):
            if self._job != "compare":
                self.result = event
                self._study_done(event)
        elif isinstance(event, ComparisonDone):
            from cnnstudio.ml.hpo.compare import EXPLANATION

            self.result = event
            self.comparison_plot.set_result(event, EXPLANATION)
            self.progress.setValue(self.progress.maximum())
            self.progress_label.setText("Comparison finished." if event.status == "completed" else "Comparison stopped.")

    def _progress_text(self, prefix: str, what: str) -> None:
        done, budget = self._trials_done, self._budget
        left = max(0, budget - done)
        mean = sum(self._trial_seconds) / len(self._trial_seconds) if self._trial_seconds else 0.0
        running = time.perf_counter() - self._trial_started if self._current_trial is not None else 0.0
        eta = max(0.0, left * mean - running) if mean else None
        best_n, best_v = self._best
        best = f" · best {best_v:.4f} (trial {best_n})" if best_v is not None else ""
        eta_text = f" · ETA {_duration(eta)}" if eta is not None else ""
        paused = self._control is not None and self._control.paused
        if not paused:
            self.progress_label.setText(f"{prefix}{done}/{budget} trials done{eta_text}{best} — {what}")

    def _study_done(self, event) -> None:
        self.progress.setRange(0, max(1, event.budget))
        self.progress.setValue(min(event.trials_done, event.budget))
        text = {"completed": "Study finished", "grid_done": "Grid finished", "cancelled": "Study stopped",
                "failed": "Study stopped"}.get(event.status, "Study ended")
        best = (f"; best {event.best_value:.4f} (trial {event.best_number})" if event.best_value is not None else "")
        self.progress_label.setText(f"{text}: {event.trials_done}/{event.budget} trials in "
                                    f"{_duration(event.seconds)}{best}.")
        if event.message:
            self.message.setText(event.message)
        self.ctx.show_status(f"{text}: {event.study}")
        self.refresh_results()

    def _comparison_curve(self, sampler: str, event) -> None:
        curves = self._compare_curves = getattr(self, "_compare_curves", {})
        curve = curves.setdefault(sampler, [])
        previous = next((v for v in reversed(curve) if v is not None), None)
        value = event.value if event.state == "complete" else None
        if event.state == "interrupted":
            return
        best = previous if value is None else (value if previous is None else max(previous, value))
        curve.append(best)
        self.comparison_plot.set_curve(sampler, curve)

    def _on_error(self, sentence: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText("The study could not run.")
        self.message.setText(sentence)
        self.ctx.show_status("The study could not run.")

    def _on_finished(self) -> None:
        self._job = ""
        self._compare_curves = {}
        self._update_buttons()
        self.refresh_results()

    # --- run records ----------------------------------------------------------------------------------------
    def _record_run(self, event) -> None:
        doc = self.ctx.document
        run_dir = Path(event.run_dir)
        if any(Path(doc.run_dir(r)) == run_dir.resolve() or Path(doc.run_dir(r)) == run_dir for r in doc.runs):
            return
        study = getattr(self, "_study_shown", "") or self.section()["study"]
        doc.add_run({
            "name": f"{study} trial {event.number}",
            "path": self._record_path(run_dir),
            "network": str(doc.get("network").get("name", "")),
            "data": str(doc.get("data").get("source", "")),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "study": study,
            "trial": int(event.number),
        })

    def _record_path(self, run_dir: Path) -> str:
        project = self.ctx.document.path
        if project is not None:
            try:
                return str(run_dir.resolve().relative_to(project.parent.resolve()))
            except ValueError:
                pass
        return str(run_dir)

    def _forget_run_without_folder(self, event) -> None:
        from cnnstudio.ml.runs import is_run_dir

        run_dir = Path(event.run_dir)
        if is_run_dir(run_dir):
            return
        doc = self.ctx.document
        kept = [r for r in doc.runs if Path(doc.run_dir(r)) not in (run_dir, run_dir.resolve())]
        if len(kept) != len(doc.runs):
            doc.set("runs", kept)

    # --- results --------------------------------------------------------------------------------------------
    def refresh_results(self) -> None:
        """Read the study's trials and plot data on a worker (the newest request wins)."""
        from cnnstudio.gui.workspaces.experiments.jobs import snapshot_job

        section = self.section()
        x_key, y_key = self.slice_plot.keys()
        self.workers.run(snapshot_job, self.storage_url(), section["study"], section["space"], x_key or None,
                         y_key or None, tag="snapshot", on_done=self._show_snapshot,
                         on_error=lambda s: self.best_label.setText(s), failure="The study could not be read")

    def _show_snapshot(self, snap) -> None:
        self._snapshot = snap
        self._rows = list(snap.rows)
        maximize = snap.maximize
        self.history_plot.set_history(snap.history, "val accuracy" if maximize else "value")
        self.parallel_plot.set_data(snap.parallel, maximize)
        self.importance_plot.set_importances(snap.importances)
        keys = list(snap.space.keys) if snap.space is not None else []
        self.slice_plot.set_keys(keys)
        self.slice_plot.set_data(snap.scatter, snap.space, maximize)
        self._fill_table(snap)
        if not snap.exists:
            self.best_label.setText(f"No study {snap.study!r} yet: Start runs it.")
        else:
            counts = ", ".join(f"{n} {state}" for state, n in snap.counts.items() if n)
            best = max((r for r in snap.rows if r["state"] == "complete" and r["value"] is not None),
                       key=lambda r: r["value"] if maximize else -r["value"], default=None)
            best_text = (f"Best: trial {best['number']}, {best['value']:.4f} with {_params(best['params'])}."
                         if best else "No trial has completed yet.")
            self.best_label.setText(f"{snap.study}: {counts or 'no trials'}. {best_text}")
        self._update_buttons()

    def _fill_table(self, snap) -> None:
        keys = list(snap.space.keys) if snap.space is not None else []
        headers = ["trial", "state", "value", *keys, "epochs", "seconds"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(snap.rows))
        from PySide6.QtGui import QColor

        for row, r in enumerate(snap.rows):
            cells = [str(r["number"]), r["state"], "—" if r["value"] is None else f"{r['value']:.4f}",
                     *[_value(r["params"].get(k, "")) for k in keys], str(r["epochs"]), f"{r['seconds']:.1f}"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 1 and STATE_COLOURS.get(r["state"]):
                    item.setForeground(QColor(STATE_COLOURS[r["state"]]))
                if r["message"]:
                    item.setToolTip(r["message"])
                self.table.setItem(row, col, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.open_trial(int(self._rows[row]["number"]))

    def open_trial(self, number: int) -> None:
        """Open the run of trial ``number`` in Inspect."""
        from cnnstudio.ml.runs import is_run_dir

        row = next((r for r in self._rows if r["number"] == number), None)
        if row is None or not row["run_dir"] or not is_run_dir(row["run_dir"]):
            self.message.setText(f"Trial {number} has no run folder to open (it failed before training).")
            return
        window = self.window()
        if not hasattr(window, "show_workspace") or "inspect" not in window.workspace_names():
            self.message.setText(f"Trial {number}: {row['run_dir']}")
            return
        window.workspace("inspect").open_run(Path(row["run_dir"]))  # before it shows: it loads this run
        window.show_workspace("inspect")
        self.ctx.show_status(f"Trial {number} opened in Inspect")

    # --- lifecycle -------------------------------------------------------------------------------------------
    def activated(self) -> None:
        if not self._job:
            self.refresh_results()

    def shutdown(self) -> None:
        for signal, slot in ((self.ctx.document.changed, self._on_document_changed),
                             (self.ctx.document.replaced, self._on_document_replaced)):
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
        self._refresh_throttled.cancel()
        if self._control is not None:
            self._control.cancel()
        self.workers.shutdown(120)


def _done_count(snap) -> int:
    return sum(n for state, n in snap.counts.items() if state in ("complete", "pruned", "failed"))


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in params.items())


def _value(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(max(0, int(round(seconds))), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"

