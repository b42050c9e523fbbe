"""The Data workspace: source settings, sample grid, per-class counts, skipped files, augmentation preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.data_config import guess_folder_source, normalize_data_config
from cnnstudio.core.errors import UserError
from cnnstudio.gui.context import AppContext
from cnnstudio.gui.workers import WorkerGroup
from cnnstudio.gui.workspaces.base import WorkspaceBase
from cnnstudio.gui.workspaces.data.augment_panel import AugmentPanel
from cnnstudio.gui.workspaces.data.counts_chart import CountsChart
from cnnstudio.gui.workspaces.data.loading import PREVIEW_VARIANTS, load_job, preview_images
from cnnstudio.gui.workspaces.data.sample_grid import SampleGrid
from cnnstudio.gui.workspaces.data.source_panel import SourcePanel

_WARN_STYLE = (
    "QLabel { background: rgba(230, 160, 30, 0.14); border: 1px solid rgba(200, 130, 20, 0.6);"
    " border-radius: 4px; padding: 6px 8px; }"
)
_ERROR_STYLE = (
    "QLabel { background: rgba(220, 60, 60, 0.12); border: 1px solid rgba(220, 60, 60, 0.6);"
    " border-radius: 4px; padding: 6px 8px; }"
)


def _dataset_part(config: dict) -> dict:
    """The settings that decide which images are loaded (augmentation does not)."""
    return {k: v for k, v in config.items() if k != "augment"}


def _section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 13px; margin-top: 6px;")
    return label


class Workspace(WorkspaceBase):
    """Pick a dataset and see what the network will learn from."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.loaded = None  # loading.Loaded of the current dataset
        self.error = ""
        self._requested: dict | None = None
        self._workers = WorkerGroup(self)  # the dataset load: a newer load replaces the older one
        self._preview_seed = 0
        self.loading = False

        self.source_panel = SourcePanel()
        self.source_panel.edited.connect(self._on_source_edited)
        self.source_panel.reload_requested.connect(lambda: self.load(force=True))
        reload_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        reload_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reload_key.activated.connect(lambda: self.load(force=True))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        # how this data meets the Designer's network (input conversion, task, class count)
        self.fit_label = QLabel()
        self.fit_label.setWordWrap(True)
        self.fit_label.setTextFormat(Qt.TextFormat.RichText)
        self.fit_label.hide()
        self.fit_button = QPushButton()
        self.fit_button.setToolTip("Resize the network's last layer to these classes and name them (undo with Ctrl+Z)")
        self.fit_button.clicked.connect(self.fit_network_to_data)
        self.fit_button.hide()
        self.counts_chart = CountsChart()
        self.skipped_title = _section_title("Skipped files")
        self.skipped_list = QTreeWidget()
        self.skipped_list.setHeaderLabels(["File", "Why"])
        self.skipped_list.setRootIsDecorated(False)
        self.skipped_list.setAlternatingRowColors(True)
        self.skipped_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.skipped_list.setMinimumHeight(80)

        left = QVBoxLayout()
        left.setContentsMargins(10, 10, 6, 10)
        left.addWidget(self.source_panel)
        left.addWidget(_hline())
        left.addWidget(self.summary)
        left.addWidget(self.fit_label)
        left.addWidget(self.fit_button)
        self.counts_title = _section_title("Images per class")
        left.addWidget(self.counts_title)
        left.addWidget(self.counts_chart, 2)
        left.addWidget(self.skipped_title)
        left.addWidget(self.skipped_list, 1)
        self._filler = QWidget()  # keeps the panel packed at the top while there is no chart
        self._filler.hide()
        left.addWidget(self._filler, 3)
        left_host = QWidget()
        left_host.setLayout(left)
        left_host.setMinimumWidth(290)
        left_host.setMaximumWidth(420)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(18)
        self.progress_label = QLabel()
        self.progress_label.setStyleSheet("color: palette(placeholder-text);")
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.progress, 1)
        self.progress_host = QWidget()
        self.progress_host.setLayout(progress_row)
        self.progress_host.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.hide()

        self.grid = SampleGrid()
        self.augment_panel = AugmentPanel()
        self.augment_panel.edited.connect(self._on_augment_edited)
        self.augment_panel.refresh_requested.connect(self._new_preview)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.grid, "Samples")
        self.tabs.addTab(self.augment_panel, "Augmentation preview")
        self.tabs.currentChanged.connect(lambda _: self._refresh_preview())

        right = QVBoxLayout()
        right.setContentsMargins(6, 10, 10, 10)
        right.addWidget(self.progress_host)
        right.addWidget(self.error_label)
        right.addWidget(self.tabs, 1)
        right_host = QWidget()
        right_host.setLayout(right)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_host)
        splitter.addWidget(right_host)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.ctx.document.changed.connect(self._on_document_changed)
        self.ctx.document.replaced.connect(self._on_document_replaced)
        self._sync_from_document()

    def _on_document_replaced(self) -> None:
        self._sync_from_document()
        self._update_fit()

    # --- document -> view -----------------------------------------------------------------------
    def _on_document_changed(self, section: str) -> None:
        if section == "data":
            self._sync_from_document()
        elif section == "network":
            self._update_fit()

    # --- data <-> network ------------------------------------------------------------------------
    def _update_fit(self) -> None:
        """Say how the loaded data meets the Designer's network; offer a fix for a class-count mismatch."""
        from cnnstudio.core.data_fit import check_fit, classes_message

        bundle = self.loaded.bundle if self.loaded is not None else None
        if bundle is None:
            self.fit_label.hide()
            self.fit_button.hide()
            return
        spec = self.ctx.document.get("network")
        inp = spec.get("input") if isinstance(spec.get("input"), dict) else {}
        want = tuple(inp.get(k) for k in ("channels", "height", "width"))
        fit = check_fit(spec, bundle.task, bundle.classes, bundle.input_shape)
        notes, warn = list(fit.notes), fit.task_problem is not None
        if fit.task_problem:
            notes.append(fit.task_problem)
        fits = fit.classes
        if fits is False:
            warn = True
            notes.append(classes_message(fit.outputs, fit.n_classes, len(spec.get("classes") or []),
                                         "the button below fits it to them"))
            self.fit_button.setText(f"Fit the network to these {len(bundle.classes)} classes")
        elif fits is None:
            warn = True
            notes.append("The Designer's network has a problem (see its Problems tab), so the fit cannot be checked.")
        self.fit_button.setVisible(fits is False)
        if not notes:
            notes.append(f"Fits the Designer's network ({want[0]}×{want[1]}×{want[2]}, "
                         f"{len(bundle.classes)} classes).")
        self.fit_label.setText("<br>".join(notes))
        self.fit_label.setStyleSheet(_WARN_STYLE if warn else "color: palette(placeholder-text);")
        self.fit_label.show()

    def fit_network_to_data(self) -> None:
        """Resize the network's last layer to the loaded data's classes (one undoable edit)."""
        from cnnstudio.core.data_fit import fit_to_classes
        from cnnstudio.core.errors import UserError

        if self.loaded is None:
            return
        classes = list(self.loaded.bundle.classes)
        try:
            spec = fit_to_classes(self.ctx.document.get("network"), classes)
        except UserError as exc:
            self.ctx.show_status(f"{exc} Edit it in the Designer.")
            return
        self.ctx.edit("network", spec, f"Fit the network to {len(classes)} classes")
        self.ctx.show_status(f"Network fitted to {len(classes)} classes")

    def _sync_from_document(self) -> None:
        data = self.ctx.document.get("data")
        self.source_panel.set_config(data)
        channels = self.loaded.bundle.input_shape[0] if self.loaded is not None else 3
        self.augment_panel.set_augment(data.get("augment") or {}, channels)
        if self._requested is None or _dataset_part(data) != _dataset_part(self._requested):
            self.load()
        else:
            self._refresh_preview()

    # --- view -> document -----------------------------------------------------------------------
    def _on_source_edited(self, new: dict, text: str, merge_key: str) -> None:
        self.ctx.edit("data", new, text, merge_key or None)

    def _on_augment_edited(self, augment: dict, text: str, merge_key: str) -> None:
        data = self.ctx.document.get("data")
        data["augment"] = augment
        self.ctx.edit("data", data, text, merge_key or None)

    def open_file(self, path: Path) -> bool:
        """A dropped folder becomes the data source (YOLO layout when it has images/ and labels/)."""
        path = Path(path)
        if not path.is_dir():
            return False
        source = guess_folder_source(path)
        self.ctx.edit("data", self.source_panel.config_for_source(source, str(path)), "Change data source")
        return True

    # --- loading --------------------------------------------------------------------------------
    def load(self, force: bool = False) -> None:
        """(Re)load the document's dataset on a worker thread; a newer load cancels the older one."""
        data = self.ctx.document.get("data")
        if not force and self._requested is not None and _dataset_part(data) == _dataset_part(self._requested):
            return
        self._requested = data
        self._workers.cancel("load")  # nothing of an older load reaches the views any more
        try:
            config = normalize_data_config(data)
        except UserError as exc:
            self._show_error(str(exc))
            return
        self._workers.run(load_job, config, tag="load", on_yield=self._on_progress, on_done=self._on_result,
                          on_error=self._show_error, failure="The dataset could not be loaded")
        self.error = ""
        self.loading = True
        self.error_label.hide()
        self.progress.setRange(0, 0)
        self.progress_label.setText("Loading…")
        self.progress_host.show()

    def _on_progress(self, event) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
        else:
            self.progress.setRange(0, 0)
        self.progress_label.setText(event.message)

    def _on_result(self, result) -> None:
        self.loading = False
        self.progress_host.hide()
        self.loaded = result
        self._show_loaded()

    def _show_error(self, text: str) -> None:
        self.error = text
        self.loading = False
        self.loaded = None
        self.progress_host.hide()
        self.error_label.setText(text)
        self.error_label.show()
        self.grid.clear()
        self.counts_chart.clear_counts()
        self.counts_chart.hide()
        self.counts_title.hide()
        self._filler.show()
        self.summary.setText("<i>No dataset loaded.</i>")
        self._update_fit()
        self._show_skipped([])
        self.skipped_title.hide()
        self.augment_panel.mosaic.set_message("Load a dataset to preview augmentations.")
        self.ctx.show_status(text, 8000)

    def _show_loaded(self) -> None:
        loaded = self.loaded
        bundle = loaded.bundle
        c, h, w = bundle.input_shape
        n_train, n_val = len(bundle.train_y), len(bundle.val_y)
        kind = "gray" if c == 1 else "RGB"
        from cnnstudio.core.tasks import get_task

        task = get_task(bundle.task).data_label
        self.summary.setText(
            f"<b>{bundle.name}</b> — {n_train + n_val:,} images<br>"
            f"{n_train:,} train · {n_val:,} validation<br>"
            f"{len(bundle.classes)} classes · {kind} {w}×{h} · {task}"
        )
        self.counts_chart.set_counts(loaded.counts_train, loaded.counts_val)
        self.counts_chart.show()
        self.counts_title.show()
        self._filler.hide()
        self.grid.show_samples(loaded.samples, bundle.classes)
        self._update_fit()
        self._show_skipped(bundle.skipped)
        self.skipped_title.show()
        self.augment_panel.set_augment(self.ctx.document.get("data").get("augment") or {}, c)
        self._refresh_preview()
        skipped = f", {len(bundle.skipped)} files skipped" if bundle.skipped else ""
        self.ctx.show_status(f"Loaded {bundle.name}: {n_train + n_val:,} images{skipped}.")

    def _show_skipped(self, skipped: list[tuple[str, str]]) -> None:
        self.skipped_list.clear()
        for path, reason in skipped:
            item = QTreeWidgetItem([Path(path).name, reason])
            item.setToolTip(0, path)
            item.setToolTip(1, reason)
            self.skipped_list.addTopLevelItem(item)
        self.skipped_title.setText(f"Skipped files ({len(skipped)})" if skipped else "Skipped files (none)")
        self.skipped_list.setVisible(bool(skipped))

    # --- augmentation preview -------------------------------------------------------------------
    def _new_preview(self) -> None:
        self._preview_seed += 1
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        if self.loaded is None or self.tabs.currentWidget() is not self.augment_panel:
            return
        augment = self.ctx.document.get("data").get("augment") or {}
        try:
            cells, boxes = preview_images(self.loaded.samples, augment, self._preview_seed,
                                          self.loaded.bundle.task)
        except UserError as exc:
            self.augment_panel.mosaic.set_message(str(exc))
            return
        titles = ["original"] + [f"#{i + 1}" for i in range(PREVIEW_VARIANTS)]
        self.augment_panel.mosaic.set_cells(cells, boxes, titles)

    # --- lifecycle ------------------------------------------------------------------------------
    def smoke_ready(self) -> bool:
        return not self.loading and (self.loaded is not None or bool(self.error))

    def shutdown(self) -> None:
        self.ctx.document.changed.disconnect(self._on_document_changed)
        self.ctx.document.replaced.disconnect(self._on_document_replaced)
        self._workers.shutdown()


def _hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
