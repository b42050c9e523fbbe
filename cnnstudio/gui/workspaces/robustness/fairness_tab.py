"""Fairness tab: a classifier trained against an adversary that predicts the protected attribute
(Zhang, Lemoine & Mitchell 2018); demographic-parity and equalized-odds gaps before and after."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.workspaces.robustness.base_tab import LabTab
from cnnstudio.gui.workspaces.robustness.widgets import ThemedPlot, fit_rows

METRICS = (("accuracy", "accuracy"), ("parity_gap", "demographic parity gap"), ("odds_gap", "equalized odds gap"),
           ("positive_rate_protected", "positive rate, protected"), ("positive_rate_other", "positive rate, others"),
           ("adversary_accuracy", "adversary accuracy"))


class FairnessTab(LabTab):
    def __init__(self, workers, parent: QWidget | None = None):
        super().__init__(workers, "Adversarial fairness",
                         "Predict income without giving the protected group away. An adversary reads the classifier's "
                         "output (and, for equalized odds, the true label) and tries to guess the group; the classifier "
                         "is updated so that it never helps the adversary (the paper's projection). Gaps are "
                         "measured on the test rows.", parent)
        self.source = QComboBox()
        self.source.addItem("Built-in income data", "generated")
        self.source.addItem("UCI Adult (your file)", "adult")
        self.source.setToolTip("The built-in set has a protected group, a proxy feature and biased labels")
        self.source.currentIndexChanged.connect(self._source_changed)
        self.form.addRow("Data", self.source)
        holder, self.adult = self._file_row("adult.data (15 columns, no header)")
        self.form.addRow("Adult file", holder)
        holder, self.adult_test = self._file_row("adult.test (optional: else 30% held out)")
        self.form.addRow("Adult test", holder)
        self.protected = QComboBox()
        self.protected.addItem("sex (Female)", "sex")
        self.protected.addItem("race (not White)", "race")
        self.protected.setToolTip("The Adult column the adversary must not recover (not a feature)")
        self.form.addRow("Protected", self.protected)
        self.objective = QComboBox()
        self.objective.addItem("Demographic parity", "parity")
        self.objective.addItem("Equalized odds", "odds")
        self.objective.setToolTip("Parity: the adversary sees the output; equalized odds: the output and the label")
        self.form.addRow("Objective", self.objective)
        self.alpha = HumanDoubleSpinBox()
        self.alpha.setRange(0.0, 100.0)
        self.alpha.setValue(1.0)
        self.alpha.setToolTip("Weight of the adversary's gradient in the classifier's update")
        self.form.addRow("Alpha", self.alpha)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(15)
        self.epochs.setToolTip("Epochs without the adversary, then as many with it")
        self.form.addRow("Epochs", self.epochs)
        self.run_button = self.add_button("Run", "Train the baseline, then against the adversary", self.run,
                                          "Ctrl+Return")
        self.finish_buttons()
        self.plot = ThemedPlot("Test set, per epoch (the adversary joins halfway)", "epoch", "")
        self.plot.setYRange(0, 1)
        self.view.addWidget(self.plot, 1)
        self.table = QTableWidget(len(METRICS), 2)
        self.table.setHorizontalHeaderLabels(["before (no adversary)", "after (with adversary)"])
        self.table.setVerticalHeaderLabels([title for _, title in METRICS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        fit_rows(self.table, len(METRICS))
        self.view.addWidget(self.table)
        self.history = []
        self.result = None
        self._items = {}
        self._source_changed()

    def _file_row(self, placeholder: str) -> tuple[QWidget, QLineEdit]:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        button = QPushButton("…")
        button.setToolTip("Choose the file")
        button.clicked.connect(lambda: self._browse(edit))
        row.addWidget(edit, 1)
        row.addWidget(button)
        return holder, edit

    def _browse(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "UCI Adult file", "", "Adult data (*.data *.test *.csv);;All (*)")
        if path:
            edit.setText(path)

    def _source_changed(self) -> None:
        adult = self.source.currentData() == "adult"
        for widget in (self.adult, self.adult_test, self.protected):
            widget.setEnabled(adult)

    def run(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import fairness_job

        source = self.source.currentData()
        if source == "adult" and not self.adult.text().strip():
            self.message.setText("Choose the adult.data file first (download it from the UCI repository).")
            return
        self.history = []
        self.plot.reset()
        self.plot.setYRange(0, 1)
        self._items = {key: self.plot.line(title, i) for i, (key, title) in enumerate(METRICS[:3] + METRICS[5:])}
        self.table.clearContents()
        self.start(fairness_job, source, self.adult.text().strip(), self.adult_test.text().strip(),
                   self.protected.currentData(), self.objective.currentData(), self.alpha.value(),
                   self.epochs.value(), 0, text="Training…", with_control=True, on_partial=self._partial,
                   on_done=self._done)

    def _partial(self, kind: str, value) -> None:
        if kind == "data":
            name, protected, label, n_train, n_test = value
            self.message.setText(f"{name}: {n_train} training, {n_test} test rows; protected {protected}; "
                                 f"label {label}.")
        elif kind == "epoch":
            self.history.append(value)
            xs = list(range(1, len(self.history) + 1))
            for key, item in self._items.items():
                item.setData(xs, [e.metrics.get(key, float("nan")) for e in self.history])

    def _done(self, result) -> None:
        self.result = result
        for row, (key, _) in enumerate(METRICS):
            for col, metrics in enumerate((result.before, result.after)):
                self.table.setItem(row, col, QTableWidgetItem(f"{metrics.get(key, float('nan')):.3f}"))
        b, a = result.before, result.after
        self.message.setText(f"Demographic parity gap {b['parity_gap']:.3f} -> {a['parity_gap']:.3f}, equalized odds "
                             f"gap {b['odds_gap']:.3f} -> {a['odds_gap']:.3f}, accuracy {b['accuracy']:.3f} -> "
                             f"{a['accuracy']:.3f}.")
