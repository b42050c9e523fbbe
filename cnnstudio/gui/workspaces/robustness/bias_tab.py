"""Bias tab: coloured digits whose background colour gives the class away in training but not in test."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.gui.widgets.number_spin import HumanDoubleSpinBox
from cnnstudio.gui.workspaces.robustness.base_tab import LabTab
from cnnstudio.gui.workspaces.robustness.widgets import COLOURS, ImageTile, ThemedPlot, fit_rows, heat_rgb

FIX_TITLES = {"none": "No fix", "augment": "Hue augmentation", "rebalance": "Re-balanced"}
#: side of the sample and saliency tiles: both grids fit beside the controls at 1280x720 and 11 pt
TILE = 48


class BiasTab(LabTab):
    def __init__(self, workers, parent: QWidget | None = None):
        super().__init__(workers, "Dataset bias",
                         "Datasets are biased. Here each digit's background colour matches its class in almost every "
                         "training image, and is random in the test images. A network that learnt the colour "
                         "instead of the strokes fails the test; the saliency shows where it looks. Fixes: a random "
                         "hue augmentation, or re-balancing the colours within each class.", parent)
        self.correlation = HumanDoubleSpinBox()
        self.correlation.setRange(0.0, 1.0)
        self.correlation.setDecimals(2)
        self.correlation.setSingleStep(0.01)
        self.correlation.setValue(0.98)
        self.correlation.setToolTip("Share of training images whose background has their class's colour")
        self.form.addRow("Cue correlation", self.correlation)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100)
        self.epochs.setValue(6)
        self.epochs.setToolTip("Epochs of each training run")
        self.form.addRow("Epochs", self.epochs)
        self.fixes = {}
        for key, title in FIX_TITLES.items():
            box = QCheckBox(title)
            box.setChecked(True)
            box.setToolTip({"none": "Train on the biased data as it is",
                            "augment": "Random hue rotation of every training image (data augment hue 0.5)",
                            "rebalance": "Resample so that every colour is equally common within each class"}[key])
            self.fixes[key] = box
            self.form.addRow("" if key != "none" else "Train", box)
        self.run_button = self.add_button("Run", "Train once per chosen fix and measure", self.run, "Ctrl+Return")
        self.finish_buttons()
        grids = QHBoxLayout()
        samples = QGridLayout()
        self.train_tiles = [ImageTile("", TILE) for _ in range(4)]
        self.test_tiles = [ImageTile("", TILE) for _ in range(4)]
        samples.addWidget(QLabel("training\n(with cue)"), 0, 0)
        samples.addWidget(QLabel("test\n(cue broken)"), 1, 0)
        for i, tile in enumerate(self.train_tiles):
            samples.addWidget(tile, 0, i + 1)
        for i, tile in enumerate(self.test_tiles):
            samples.addWidget(tile, 1, i + 1)
        grids.addLayout(samples)
        grids.addSpacing(24)
        self.heat_grid = QGridLayout()
        self.heat_title = QLabel("Saliency on the test images:")
        self.heat_title.setToolTip("Where each trained network looks (input gradient) in the four test images")
        self.heat_title.hide()
        heat_box = QVBoxLayout()
        heat_box.addWidget(self.heat_title)
        heat_box.addLayout(self.heat_grid)
        heat_box.addStretch(1)
        grids.addLayout(heat_box)
        grids.addStretch(1)
        self.view.addLayout(grids)
        self.plot = ThemedPlot("Accuracy: validation (cue present) and test (cue broken)", "", "")
        self.plot.setYRange(0, 1)
        self.view.addWidget(self.plot, 1)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["training", "val (cue)", "test (no cue)", "drop",
                                              "saliency on background"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # titles and cells in full
        header.setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(26)
        fit_rows(self.table, len(FIX_TITLES))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.view.addWidget(self.table)
        self.results: list[dict] = []
        self._test_images = None

    def run(self) -> None:
        from cnnstudio.gui.workspaces.robustness.jobs import bias_job

        fixes = [k for k, box in self.fixes.items() if box.isChecked()]
        if not fixes:
            self.message.setText("Choose at least one way to train.")
            return
        self.results = []
        self.table.setRowCount(0)
        self.plot.reset()
        self.plot.setYRange(0, 1)
        self.heat_title.hide()
        while self.heat_grid.count():
            item = self.heat_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.start(bias_job, self.correlation.value(), fixes, {"epochs": self.epochs.value(), "seed": 0},
                   text="Training…", with_control=True, on_partial=self._partial, on_done=self._done)

    def _partial(self, kind: str, value) -> None:
        if kind == "data":
            for i, tile in enumerate(self.train_tiles):
                tile.set_image(value["train"][i], f"a {value['train_y'][i]}")
            for i, tile in enumerate(self.test_tiles):
                tile.set_image(value["test"][i], f"a {value['test_y'][i]}")
            self._test_images = value["test"]
        elif kind == "result":
            self.results.append(value)
            self._add_row(value)

    def _add_row(self, r: dict) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        cells = [FIX_TITLES[r["fix"]], f"{r['val']:.3f}", f"{r['test']:.3f}", f"{r['val'] - r['test']:+.3f}",
                 f"{r['saliency']:.1%} (area {r['area']:.0%})"]
        for col, text in enumerate(cells):
            self.table.setItem(row, col, QTableWidgetItem(text))
        self.heat_title.show()
        self.heat_grid.addWidget(QLabel(FIX_TITLES[r["fix"]]), row, 0)
        for k, heat in enumerate(r["heats"]):
            tile = ImageTile("", TILE)
            tile.set_image(heat_rgb(heat))
            self.heat_grid.addWidget(tile, row, k + 1)
        self._draw_bars()

    def _draw_bars(self) -> None:
        self.plot.reset()
        self.plot.setYRange(0, 1)
        n = len(self.results)
        x = np.arange(n, dtype=float)
        for j, (key, name) in enumerate((("val", "validation (cue present)"), ("test", "test (cue broken)"))):
            bars = pg.BarGraphItem(x=x + (j - 0.5) * 0.35, height=[r[key] for r in self.results], width=0.33,
                                   brush=COLOURS[j], name=name)
            self.plot.addItem(bars)  # named: the legend lists it
        axis = self.plot.getPlotItem().getAxis("bottom")
        axis.setTicks([[(i, FIX_TITLES[r["fix"]]) for i, r in enumerate(self.results)]])

    def _done(self, results) -> None:
        base = next((r for r in results if r["fix"] == "none"), None)
        parts = []
        if base is not None:
            parts.append(f"The cue costs {base['val'] - base['test']:.0%} points "
                         f"({base['val']:.1%} -> {base['test']:.1%}).")
        for r in results:
            if r["fix"] != "none":
                parts.append(f"{FIX_TITLES[r['fix']]}: test {r['test']:.1%}.")
        self.message.setText(" ".join(parts))
