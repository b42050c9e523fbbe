"""The study's plots (pyqtgraph): optimization history, parallel coordinates, importances, a 2-D slice, and
the lecture's comparison of grid, random and TPE. Each takes plain data (cnnstudio.ml.hpo.results) and
updates its items in place; clicking a trial emits ``trial_chosen(number)``."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.gui.theme import follow_palette
from cnnstudio.gui.workspaces.train.curves import EpochAxis  # whole-number ticks (trials, like epochs)

VALUE_COLOR = (31, 119, 180)
BEST_COLOR = (214, 39, 40)
SAMPLER_COLORS = {"grid": (31, 119, 180), "random": (255, 127, 14), "tpe": (44, 160, 44)}
SAMPLER_TITLES = {"grid": "Grid search", "random": "Random search", "tpe": "Bayesian (TPE)"}
_CMAP = pg.colormap.get("viridis")


def _colours(values: np.ndarray, maximize: bool) -> list:
    """A colour per value: yellow for the best end, dark blue for the worst."""
    if len(values) == 0:
        return []
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    t = (values - lo) / (hi - lo) if hi > lo else np.full(len(values), 1.0)
    if not maximize:
        t = 1.0 - t
    return [pg.mkColor(c) for c in _CMAP.map(np.clip(t, 0, 1), mode="qcolor")]


class _TickAxis(pg.AxisItem):
    """An axis with fixed labelled ticks (dimension names, choices, log values)."""

    def __init__(self, orientation: str):
        super().__init__(orientation)
        self._fixed: list[tuple[float, str]] | None = None

    def set_fixed(self, ticks: list[tuple[float, str]] | None) -> None:
        self._fixed = ticks
        self.setTicks([ticks] if ticks else None)


class HistoryPlot(pg.PlotWidget):
    """Each complete trial's value, and the best so far as a step line."""

    trial_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, title="Optimization history", axisItems={"bottom": EpochAxis("bottom")})
        self.showGrid(x=True, y=True, alpha=0.3)
        self.setLabel("bottom", "trial")
        self.setLabel("left", "value")
        self.addLegend(offset=(-10, -10))
        self.getAxis("left").enableAutoSIPrefix(False)
        self.points = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(*VALUE_COLOR, 180), pen=None, name="trial")
        self.pruned = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(150, 150, 150, 160), pen=None, symbol="x",
                                         name="pruned (value when stopped)")
        self.best = self.plot(name="best so far", pen=pg.mkPen(BEST_COLOR, width=2))
        self.addItem(self.points)  # named items: the legend lists them
        self.addItem(self.pruned)
        self.pruned.sigClicked.connect(self._clicked)
        self.points.sigClicked.connect(self._clicked)
        follow_palette(self)

    def set_history(self, history, metric: str = "value") -> None:
        self.setLabel("left", metric)
        pruned = history is not None and history.pruned_numbers is not None and len(history.pruned_numbers)
        if pruned:
            self.pruned.setData(history.pruned_numbers.astype(float), history.pruned_values,
                                data=history.pruned_numbers)
        else:
            self.pruned.setData([], [])
        if history is None or len(history.numbers) == 0:
            self.points.setData([], [])
            self.best.setData([], [])
            return
        xs = history.numbers.astype(float)
        self.points.setData(xs, history.values, data=history.numbers)
        # a step line: the best holds until a better trial comes
        sx = np.repeat(xs, 2)[1:]
        sy = np.repeat(history.best, 2)[:-1]
        last = max(xs[-1], float(history.pruned_numbers.max()) if pruned else xs[-1])
        if last > xs[-1]:  # the best holds over the pruned trials after it
            sx, sy = np.append(sx, last), np.append(sy, sy[-1])
        self.best.setData(sx, sy)

    def _clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.trial_chosen.emit(int(points[0].data()))


class ParallelPlot(pg.PlotWidget):
    """Parallel coordinates: an axis per dimension (scaled 0…1) and the value last; colour by value."""

    trial_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        self._axis = _TickAxis("bottom")
        super().__init__(parent, title="Parallel coordinates (colour: value, yellow = best)",
                         axisItems={"bottom": self._axis})
        self.setLabel("left", "position in the range (0 = low, 1 = high)")
        self.setYRange(-0.05, 1.05)
        self._lines: list = []
        follow_palette(self)

    def set_data(self, parallel, maximize: bool = True) -> None:
        """Reuses its line items (new ones only when there are more trials): an item dropped here would
        be garbage that the collector may free on a worker thread."""
        n = 0 if parallel is None else len(parallel.lines)
        self._axis.set_fixed([(float(i), k) for i, k in enumerate(parallel.labels)] if parallel else None)
        while len(self._lines) < n:
            line = pg.PlotCurveItem(clickable=True)
            line.trial_number = -1
            line.sigClicked.connect(self._line_clicked)
            self.addItem(line)
            self._lines.append(line)
        for line in self._lines[n:]:
            line.setData([], [])
            line.setVisible(False)
        if not n:
            return
        xs = np.arange(parallel.lines.shape[1], dtype=float)
        order = np.argsort(parallel.values if maximize else -parallel.values)  # best drawn last (on top)
        colours = _colours(parallel.values, maximize)
        for z, i in enumerate(order):
            line = self._lines[z]
            line.setData(xs, np.nan_to_num(parallel.lines[i], nan=0.5), pen=pg.mkPen(colours[i], width=2))
            line.setZValue(z)
            line.trial_number = int(parallel.numbers[i])
            line.setToolTip(f"trial {int(parallel.numbers[i])}: {parallel.values[i]:.4f}")
            line.setVisible(True)
        self.setXRange(-0.2, len(xs) - 0.8)

    def shown_lines(self) -> int:
        return sum(1 for line in self._lines if line.isVisible())

    def _line_clicked(self, line, *_args) -> None:
        if getattr(line, "trial_number", -1) >= 0:
            self.trial_chosen.emit(int(line.trial_number))


class ImportancePlot(pg.PlotWidget):
    """fANOVA parameter importances as horizontal bars (they sum to 1)."""

    def __init__(self, parent: QWidget | None = None):
        self._axis = _TickAxis("left")
        super().__init__(parent, title="Parameter importances (fANOVA)", axisItems={"left": self._axis})
        self.setLabel("bottom", "share of the value's variance")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brush=pg.mkBrush(*VALUE_COLOR))
        self.addItem(self.bars)
        self.empty = pg.TextItem("", anchor=(0.5, 0.5))
        self.addItem(self.empty)
        follow_palette(self)

    def set_importances(self, importances: dict) -> None:
        names = list(importances)[::-1]  # the most important at the top
        values = [importances[n] for n in names]
        self.bars.setOpts(x0=[0] * len(values), y=list(range(len(values))), width=values, height=0.6)
        self._axis.set_fixed([(float(i), n) for i, n in enumerate(names)])
        self.empty.setText("" if importances else "Importances need two complete trials.")
        self.setXRange(0, max(values + [1.0]) if values else 1.0)
        if names:
            self.setYRange(-0.6, len(names) - 0.4)
        else:
            self.empty.setPos(0.5, 0.5)


class SlicePlot(QWidget):
    """Two chosen dimensions: each trial a point coloured by its value, over an interpolated contour."""

    trial_chosen = Signal(int)
    axes_changed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.x_combo.setToolTip("The dimension along the x axis")
        self.y_combo.setToolTip("The dimension along the y axis")
        row = QHBoxLayout()
        row.addWidget(QLabel("x:"))
        row.addWidget(self.x_combo, 1)
        row.addWidget(QLabel("y:"))
        row.addWidget(self.y_combo, 1)
        self._xaxis, self._yaxis = _TickAxis("bottom"), _TickAxis("left")
        self.plot = pg.PlotWidget(title="2-D slice (colour: value, yellow = best)",
                                  axisItems={"bottom": self._xaxis, "left": self._yaxis})
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setOpacity(0.55)
        self.image.setLookupTable(_CMAP.getLookupTable(nPts=256))
        self.points = pg.ScatterPlotItem(size=10, pen=pg.mkPen("k", width=0.5))
        self.plot.addItem(self.image)
        self.plot.addItem(self.points)
        self.points.sigClicked.connect(self._clicked)
        follow_palette(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.x_combo.currentIndexChanged.connect(self._combo_changed)
        self.y_combo.currentIndexChanged.connect(self._combo_changed)

    def set_keys(self, keys: list[str]) -> None:
        for combo, default in ((self.x_combo, 0), (self.y_combo, 1)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(keys)
            index = keys.index(current) if current in keys else min(default, len(keys) - 1)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

    def keys(self) -> tuple[str, str]:
        return self.x_combo.currentText(), self.y_combo.currentText()

    def set_data(self, scatter, space, maximize: bool = True) -> None:
        from cnnstudio.ml.hpo.results import axis_ticks

        if scatter is None or space is None:
            self.points.setData([], [])
            self.image.clear()
            return
        x_key, y_key = self.keys()
        try:
            self._xaxis.set_fixed(axis_ticks(space.dimension(x_key)))
            self._yaxis.set_fixed(axis_ticks(space.dimension(y_key)))
        except KeyError:
            pass
        self.plot.setLabel("bottom", x_key)
        self.plot.setLabel("left", y_key)
        brushes = [pg.mkBrush(c) for c in _colours(scatter.values, maximize)]
        self.points.setData(scatter.x, scatter.y, brush=brushes, data=scatter.numbers)
        x0, x1, y0, y1 = scatter.extent
        if scatter.grid is not None:
            grid = scatter.grid if maximize else -scatter.grid
            self.image.setImage(grid, autoLevels=True)
            self.image.setRect(x0, y0, x1 - x0, y1 - y0)
        else:
            self.image.clear()
        self.plot.setXRange(x0, x1)
        self.plot.setYRange(y0, y1)

    def _combo_changed(self, _index: int) -> None:
        self.axes_changed.emit(*self.keys())

    def _clicked(self, _item, points, *_args) -> None:
        if len(points):
            self.trial_chosen.emit(int(points[0].data()))


class ComparisonPlot(QWidget):
    """Best so far against trials for grid, random and TPE (the lecture's comparison), with an explanation."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(title="Best validation accuracy so far", axisItems={"bottom": EpochAxis("bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("bottom", "trials")
        self.plot.setLabel("left", "best so far")
        self.plot.addLegend(offset=(-10, -10))
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        # TPE starts with random trials drawn with the same seed as random search, so their curves may
        # overlap at first: different dashes and symbols keep both visible
        styles = {"grid": (Qt.PenStyle.SolidLine, "s", 4), "random": (Qt.PenStyle.DashLine, "o", 3),
                  "tpe": (Qt.PenStyle.DotLine, "t", 2.5)}
        self.curves = {}
        for name, colour in SAMPLER_COLORS.items():
            style, symbol, width = styles[name]
            self.curves[name] = self.plot.plot(name=SAMPLER_TITLES[name], pen=pg.mkPen(colour, width=width, style=style),
                                               symbol=symbol, symbolSize=7, symbolBrush=colour)
        self.target = pg.InfiniteLine(angle=0, pen=pg.mkPen((127, 127, 127), style=Qt.PenStyle.DashLine))
        self.target.setVisible(False)
        self.plot.addItem(self.target)
        follow_palette(self.plot)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)

    def set_curve(self, sampler: str, curve: list) -> None:
        ys = [math.nan if v is None else float(v) for v in curve]
        xs = list(range(1, len(ys) + 1))
        self.curves[sampler].setData(xs, ys, connect="finite")

    def set_result(self, done, explanation: str) -> None:
        for sampler, curve in done.curves.items():
            if sampler in self.curves:
                self.set_curve(sampler, list(curve))
        self.target.setPos(done.target)
        self.target.setVisible(True)
        parts = []
        for sampler, hit in done.trials_to_target.items():
            best = max((v for v in done.curves[sampler] if v is not None), default=None)
            best_text = "no result" if best is None else f"best {best:.4f}"
            reach = f"reached {done.target:g} after {hit} trials" if hit else f"did not reach {done.target:g}"
            parts.append(f"<b>{SAMPLER_TITLES.get(sampler, sampler)}</b>: {reach} ({best_text})")
        grid = f" The grid has {done.grid_points} points." if done.grid_points else ""
        self.summary.setText(f"{' · '.join(parts)}.{grid}<br>{explanation}")

    def clear(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        self.target.setVisible(False)
        self.summary.setText("")
