"""The run history: the project's runs with their results; ticked runs overlay their curves."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from cnnstudio.core.numbers import human_number

COLUMNS = ("Run", "Status", "Epochs", "Val acc", "Val loss", "Val IoU", "Time (s)")


class RunHistoryTable(QTableWidget):
    """One row per run (``RunInfo``); the first column's check box overlays the run's curves."""

    overlays_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # every title and value whole
        header.setMinimumSectionSize(header.fontMetrics().horizontalAdvance("Epochs") + 14)
        self.verticalHeader().hide()
        for col, tip in ((3, "Validation accuracy of the last epoch"), (4, "Validation loss of the last epoch"),
                         (5, "Validation IoU of the predicted boxes (localization)"), (6, "Training time in seconds")):
            self.horizontalHeaderItem(col).setToolTip(tip)
        self.runs: list = []
        self._progress: tuple[str, int, int] | None = None  # (run folder, epochs done, planned) of the live job
        self.itemChanged.connect(self._on_item_changed)

    def set_runs(self, runs: list, active=None) -> None:
        """Show ``runs``; ``active`` is the folder of the run training now (others cannot be "running")."""
        checked = {str(r.path) for r in self.checked_runs()}
        if active is None or (self._progress is not None and self._progress[0] != str(active)):
            self._progress = None
        self.blockSignals(True)
        try:
            self.setRowCount(len(runs))
            for row, run in enumerate(runs):
                final, summary = run.final, run.summary
                epochs = f"{run.epochs_done}/{run.training.get('epochs', '?')}"
                status = run.status.replace("_", " ")
                if active is not None and str(run.path) == str(active):
                    status = "running"
                    if self._progress is not None:  # the job's own count: the folder lags behind it
                        epochs = f"{self._progress[1]}/{self._progress[2]}"
                elif run.status in ("running", "new"):
                    status = "interrupted"  # the app ended while it trained; its last epoch can be resumed
                values = [run.name, status, epochs, _num(final.get("val_accuracy")),
                          _num(final.get("val_loss")), _num(final.get("val_iou")),
                          _num(summary.get("training_seconds"))]
                for col, text in enumerate(values):
                    item = QTableWidgetItem(text)
                    if col == 0:
                        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                        on = str(run.path) in checked
                        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                        item.setToolTip(str(run.path))
                    elif col == 1 and status == "interrupted":
                        item.setToolTip("The app closed while this run was training; resume it to go on.")
                    elif col >= 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(row, col, item)
        finally:
            self.blockSignals(False)
        self.runs = list(runs)
        # the IoU column only for runs that have one (localization): room for the others at 1280x720
        self.setColumnHidden(5, not any(isinstance(r.final.get("val_iou"), (int, float)) for r in runs))
        self.overlays_changed.emit()

    def set_active_progress(self, path, done: int, total: int) -> None:
        """The running job finished epoch ``done`` of ``total``: its row says so at once."""
        self._progress = (str(path), int(done), int(total))
        for row, run in enumerate(self.runs):
            if str(run.path) == str(path):
                self.blockSignals(True)
                try:
                    for col, text in ((1, "running"), (2, f"{done}/{total}")):
                        item = self.item(row, col)
                        if item is not None:
                            item.setText(text)
                finally:
                    self.blockSignals(False)

    def checked_runs(self) -> list:
        out = []
        for row, run in enumerate(self.runs):
            item = self.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                out.append(run)
        return out

    def set_checked(self, row: int, on: bool) -> None:
        self.item(row, 0).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def selected_run(self):
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows or rows[0].row() >= len(self.runs):
            return None
        return self.runs[rows[0].row()]

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.overlays_changed.emit()


def _num(value, significant: int = 3) -> str:
    return human_number(value, significant)
