"""Per-class image counts as a stacked bar chart (train below, validation on top)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from cnnstudio.gui.theme import follow_palette

TRAIN_COLOUR = "#3d7edb"
VAL_COLOUR = "#f29c38"


class CountsChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(y=True, alpha=0.25)
        self.setLabel("left", "images")
        self.getPlotItem().getAxis("bottom").setStyle(tickTextOffset=4)
        self._train = pg.BarGraphItem(x=[], height=[], width=0.7, brush=TRAIN_COLOUR, pen=None)
        self._val = pg.BarGraphItem(x=[], height=[], y0=[], width=0.7, brush=VAL_COLOUR, pen=None)
        self.addItem(self._train)
        self.addItem(self._val)
        legend = self.addLegend(offset=(-6, 4), labelTextSize="8pt", colCount=2)
        legend.addItem(self._train, "train")
        legend.addItem(self._val, "validation")
        follow_palette(self)  # background, axes and legend from the theme, again when it changes
        self.setMinimumHeight(170)
        self.counts: dict[str, tuple[int, int]] = {}

    def set_counts(self, train: dict[str, int], val: dict[str, int]) -> None:
        names = list(train)
        self.counts = {n: (train[n], val.get(n, 0)) for n in names}
        xs = list(range(len(names)))
        t = [train[n] for n in names]
        v = [val.get(n, 0) for n in names]
        self._train.setOpts(x=xs, height=t, width=0.7)
        self._val.setOpts(x=xs, height=v, y0=t, width=0.7)
        ticks = [(i, _short(n)) for i, n in enumerate(names)]
        self.getPlotItem().getAxis("bottom").setTicks([ticks])
        top = max([a + b for a, b in zip(t, v)] or [1])
        self.setXRange(-0.6, max(0.6, len(names) - 0.4), padding=0)
        self.setYRange(0, top * 1.3, padding=0)  # headroom for the legend

    def clear_counts(self) -> None:
        self.set_counts({}, {})


def _short(name: str, limit: int = 9) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
