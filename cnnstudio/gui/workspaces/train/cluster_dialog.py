""""Run on a cluster…": preview and save a torchrun / SLURM launch script of the project's training or search.

The script text comes from :mod:`cnnstudio.core.launch_scripts` (the same as ``cnnstudio train
--emit-script``); Save writes it with the network spec (and, for a search, the search space) beside it,
so the folder can be copied to the cluster as it is. See docs/scale-out.md.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core import launch_scripts as ls
from cnnstudio.core.data_config import NAMED_SOURCES
from cnnstudio.core.errors import UserError
from cnnstudio.gui.theme import set_tone


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower()).strip("-") or "network"


class ClusterDialog(QDialog):
    """Builds the launch script from the project and the fields here; ``script`` is the current text."""

    def __init__(self, ctx, mode: str = "train", parent: QWidget | None = None, search: dict | None = None):
        super().__init__(parent)
        self.ctx, self.mode = ctx, mode
        self._search = dict(search or {})
        self.script = ""
        self.saved: Path | None = None
        doc = ctx.document
        network = doc.get("network")
        name = _slug(str(network.get("name") or "network"))
        data = doc.get("data")
        self.setWindowTitle("Run the search on a cluster" if mode == "search" else "Run on a cluster")
        kinds = ls.SEARCH_KINDS if mode == "search" else ls.TRAIN_KINDS

        self.kind = QComboBox()
        for key, text in kinds.items():
            self.kind.addItem(text, key)
        self.kind.setToolTip("torchrun starts one process per GPU (DistributedDataParallel); SLURM submits a "
                             "batch job with sbatch")
        self.nodes = QSpinBox()
        self.nodes.setRange(1, 10_000)
        self.nodes.setToolTip("Machines (nodes) the job runs on")
        self.gpus = QSpinBox()
        self.gpus.setRange(1, 1024)
        self.gpus.setValue(1)
        self.gpus.setToolTip("GPUs on each machine: one process (or one search worker) per GPU")
        self.per_worker = QSpinBox()
        self.per_worker.setRange(1, 1024)
        self.per_worker.setToolTip("GPUs of each search worker: 1 = one worker per GPU; more = each worker runs "
                                   "under torchrun and trains every trial on its GPUs with DDP")
        self.out = QLineEdit(f"runs/hpo-{_slug(self._search.get('study', 'study'))}" if mode == "search"
                             else f"runs/{name}-cluster")
        self.out.setToolTip("The run folder on the cluster (relative to where the script is started)")
        self.spec_file = QLineEdit(f"{name}.spec.json")
        self.spec_file.setToolTip("The network spec file, saved beside the script")
        where = str(data.get("path") or "") if data.get("source") in ("folder", "yolo") else str(data.get("source"))
        self.data = QLineEdit(where)
        self.data.setToolTip("The data as the cluster sees it: a built-in name (digits, shapes, …) or the path "
                             "of the image folder there")
        self.storage = QLineEdit(self._search.get("storage", ""))
        self.storage.setPlaceholderText("postgresql://USER:PASSWORD@HOST:5432/DB")
        self.storage.setToolTip("The Optuna storage every worker shares: a database server for several machines")
        self.study = QLineEdit(self._search.get("study", "study"))
        self.study.setToolTip("The study's name in the storage")
        self.partition = QLineEdit()
        self.partition.setPlaceholderText("the cluster's default")
        self.partition.setToolTip("SLURM partition (sbatch --partition)")
        self.time_limit = QLineEdit("04:00:00")
        self.time_limit.setToolTip("SLURM time limit: HH:MM:SS or D-HH:MM:SS")
        self.python = QLineEdit("python")
        self.python.setToolTip("The Python on the cluster that has CNN Studio installed (PYTHON=… overrides it)")
        self.setup = QPlainTextEdit()
        self.setup.setPlaceholderText("module load cuda\nsource ~/venvs/cnnstudio/bin/activate")
        self.setup.setToolTip("Shell lines run before training: modules, a virtual environment")
        self.setup.setFixedHeight(52)

        form = QFormLayout()
        form.addRow("Script", self.kind)
        counts = QHBoxLayout()
        counts.addWidget(self.nodes)
        counts.addWidget(QLabel("machines ×"))
        counts.addWidget(self.gpus)
        counts.addWidget(QLabel("GPUs each"))
        counts.addStretch(1)
        form.addRow("Size", counts)
        form.addRow("Network file", self.spec_file)
        form.addRow("Data on the cluster", self.data)
        form.addRow("Output folder" if mode == "search" else "Run folder", self.out)
        if mode == "search":
            form.addRow("GPUs per worker", self.per_worker)
            form.addRow("Storage", self.storage)
            form.addRow("Study", self.study)
        form.addRow("SLURM partition", self.partition)
        form.addRow("SLURM time limit", self.time_limit)
        form.addRow("Python", self.python)
        form.addRow("Set-up lines", self.setup)

        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        set_tone(self.problem, "error")  # readable in both themes
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setToolTip("The script as it will be saved")
        self.preview.setMinimumSize(620, 300)

        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the script to the clipboard")
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the script with the network file beside it (Ctrl+S)")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(lambda: self.save())

        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.note)
        left.addWidget(self.problem)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.preview, 1)
        right.addWidget(buttons)
        layout.addLayout(left)
        layout.addLayout(right, 1)

        for spin in (self.nodes, self.gpus, self.per_worker):
            spin.valueChanged.connect(lambda _v: self.update_preview())
        self.kind.currentIndexChanged.connect(lambda _i: self.update_preview())
        for edit in (self.out, self.spec_file, self.data, self.storage, self.study, self.partition,
                     self.time_limit, self.python):
            edit.textChanged.connect(lambda _t: self.update_preview())
        self.setup.textChanged.connect(self.update_preview)
        self.resize(1100, 620)
        self.update_preview()

    # --- building --------------------------------------------------------------------------------------
    def settings(self) -> ls.ClusterSettings:
        return ls.ClusterSettings(kind=self.kind.currentData(), nodes=self.nodes.value(), gpus_per_node=self.gpus.value(),
                                  partition=self.partition.text().strip(), time_limit=self.time_limit.text().strip(),
                                  python=self.python.text().strip(), setup=self.setup.toPlainText(),
                                  gpus_per_worker=self.per_worker.value() if self.mode == "search" else 1,
                                  job_name=_slug(self.out.text().rsplit("/", 1)[-1])[:60] or "cnnstudio")

    def _data(self) -> dict:
        doc_data = dict(self.ctx.document.get("data"))
        text = self.data.text().strip()
        if text in NAMED_SOURCES:  # else a path on the cluster, not checked here
            data = {"source": text}
        else:
            data = {"source": "folder", "path": text}
        same = doc_data.get("source") == data["source"] or doc_data.get("source") == "yolo"
        for key in ("val_fraction", "seed", *(("num_samples", "max_samples") if same else ())):
            if doc_data.get(key) is not None:
                data[key] = doc_data[key]
        return data

    def build(self) -> str:
        """The script for the fields as they are (a UserError says what is missing)."""
        doc = self.ctx.document
        spec_file = self.spec_file.text().strip()
        if not spec_file:
            raise UserError("Name the network file the script trains (it is saved beside the script).")
        if self.mode == "search":
            section = dict(self._search)
            args = ls.search_arguments(spec_file, self._data(), section, doc.get("training"), self._space_file())
            return ls.search_script(args, self.settings(), self.storage.text().strip() or None,
                                    self.study.text().strip(), self.out.text().strip(),
                                    int(section.get("seed") or 0))
        args = ls.train_arguments(spec_file, self._data(), self.out.text().strip(), doc.get("training"))
        return ls.train_script(args, self.settings())

    def _space_file(self) -> str:
        return str(Path(self.spec_file.text().strip()).with_suffix("")).removesuffix(".spec") + ".space.json"

    def update_preview(self) -> None:
        slurm = self.kind.currentData() == "slurm"
        self.partition.setEnabled(slurm)
        self.time_limit.setEnabled(slurm)
        try:
            self.script = self.build()
        except UserError as exc:
            self.script = ""
            self.problem.setText(str(exc))
        else:
            self.problem.setText("")
        self.preview.setPlainText(self.script)
        self.save_button.setEnabled(bool(self.script))
        self.copy_button.setEnabled(bool(self.script))
        self.note.setText(self._note())

    def _note(self) -> str:
        parts = ["Start the saved script from its folder (sbatch SCRIPT or bash SCRIPT): the network file and "
                 "the run folder are relative to it."]
        augment = self.ctx.document.get("data").get("augment") or {}
        if any(float(v) > 0 for v in augment.values() if isinstance(v, (int, float))):
            parts.append("The project's augmentation is not passed on the command line: the cluster trains "
                         "without it.")
        if self.mode == "train":
            parts.append("The batch size is the global batch, shared by the processes.")
        return " ".join(parts)

    # --- actions -------------------------------------------------------------------------------------------
    def copy(self) -> None:
        if self.script:
            QGuiApplication.clipboard().setText(self.script)

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the script (asking where when ``path`` is None) with the network spec beside it."""
        if not self.script:
            return None
        if path is None:
            start = str((self.ctx.document.path.parent if self.ctx.document.path else Path.cwd()) /
                        ("search.sh" if self.mode == "search" else "train-cluster.sh"))
            path, _ = QFileDialog.getSaveFileName(self, "Save launch script", start, "Shell scripts (*.sh);;All files (*)")
            if not path:
                return None
        target = Path(path)
        from cnnstudio.core.spec import save_spec

        try:
            save_spec(self.ctx.document.get("network"), target.parent / self.spec_file.text().strip())
            if self.mode == "search":
                from cnnstudio.core.search_space import SearchSpace, save_space

                save_space(SearchSpace.from_dict(self._search.get("space")), target.parent / self._space_file())
            ls.save_script(target, self.script)
        except (UserError, OSError) as exc:
            self.problem.setText(f"Could not save: {exc}")
            return None
        self.saved = target
        self.problem.setText("")
        self.note.setText(f"Saved {target} and {self.spec_file.text().strip()} beside it.")
        self.ctx.show_status(f"Launch script saved: {target.name}")
        return target


def open_cluster_dialog(ctx, parent: QWidget, mode: str = "train", search: dict | None = None) -> ClusterDialog:
    """Show the dialog (modeless, one per parent: a second call raises the open one)."""
    dialog = getattr(parent, "_cluster_dialog", None)
    if dialog is None or not dialog.isVisible():  # a closed one is replaced: it shows the project as it is now
        if dialog is not None:
            dialog.deleteLater()
        dialog = ClusterDialog(ctx, mode, parent, search)
        parent._cluster_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog
