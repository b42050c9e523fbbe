"""Live training curves (loss; accuracy and IoU) plus the curves of earlier runs for comparison."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from cnnstudio.gui.theme import follow_palette, theme_legend

TRAIN_COLOR = (31, 119, 180)
VAL_COLOR = (255, 127, 14)
IOU_COLOR = (44, 160, 44)
MAP_COLOR = (214, 39, 40)
#: the task metrics beside the accuracy, listed in the legend only while a run has them
EXTRA_METRICS = {"val_iou": "val IoU", "val_map50": "val mAP@0.5"}
OVERLAY_COLORS = ((148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


class EpochAxis(pg.AxisItem):
    """An x axis with whole-epoch ticks only (no "1.2 epochs")."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        levels = [(spacing, [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        levels = [(spacing, values) for spacing, values in levels if values]
        if not levels and maxVal - minVal < 50:
            first, last = math.ceil(minVal), math.floor(maxVal)
            levels = [(1.0, [float(v) for v in range(first, last + 1)])]
        return levels


class CurvesView(QWidget):
    """Two plots: loss (train, validation) and accuracy (train, validation, IoU); items updated with setData."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = pg.PlotWidget(title="Loss", axisItems={"bottom": EpochAxis("bottom")})
        self.acc_plot = pg.PlotWidget(title="Accuracy", axisItems={"bottom": EpochAxis("bottom")})
        # loss falls and accuracy rises: legends in the corners the curves leave free
        for plot, offset in ((self.loss_plot, (-10, 10)), (self.acc_plot, (-10, -10))):
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setLabel("bottom", "epoch")
            plot.addLegend(offset=offset)
            layout.addWidget(plot)
        self.acc_plot.setYRange(0, 1.0)
        self.curves = {
            "train_loss": self.loss_plot.plot(name="train", pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=5,
                                              symbolBrush=TRAIN_COLOR),
            "val_loss": self.loss_plot.plot(name="validation", pen=pg.mkPen(VAL_COLOR, width=2), symbol="o",
                                            symbolSize=5, symbolBrush=VAL_COLOR),
            "train_accuracy": self.acc_plot.plot(name="train", pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o",
                                                 symbolSize=5, symbolBrush=TRAIN_COLOR),
            "val_accuracy": self.acc_plot.plot(name="validation", pen=pg.mkPen(VAL_COLOR, width=2), symbol="o",
                                               symbolSize=5, symbolBrush=VAL_COLOR),
            "val_iou": self.acc_plot.plot(pen=pg.mkPen(IOU_COLOR, width=2), symbol="t", symbolSize=6,
                                          symbolBrush=IOU_COLOR),
            "val_map50": self.acc_plot.plot(pen=pg.mkPen(MAP_COLOR, width=2), symbol="s", symbolSize=5,
                                            symbolBrush=MAP_COLOR),
        }
        self._overlays: dict[str, list] = {}
        for plot in (self.loss_plot, self.acc_plot):
            follow_palette(plot)  # background, axes, titles and legends from the theme

    def set_history(self, rows: list[dict]) -> None:
        """Show the live run's epoch rows (replaces what the live curves show)."""
        for key, item in self.curves.items():
            xs = [r["epoch"] for r in rows if isinstance(r.get(key), (int, float))]
            ys = [float(r[key]) for r in rows if isinstance(r.get(key), (int, float))]
            item.setData(xs, ys)
        legend = self.acc_plot.getPlotItem().legend
        for key, title in EXTRA_METRICS.items():
            item = self.curves[key]
            listed = any(entry[0].item is item for entry in legend.items) if legend is not None else True
            if legend is not None and bool(len(self.data_of(key)[0])) != listed:
                if listed:
                    legend.removeItem(item)
                else:
                    legend.addItem(item, title)
                    theme_legend(legend, self.acc_plot.palette())

    def plan_epochs(self, epochs: int | None) -> None:
        """Span the x axis over the planned epochs while a run trains (``None``: fit the data again)."""
        for plot in (self.loss_plot, self.acc_plot):
            if epochs:
                plot.setXRange(0.5, max(1, int(epochs)) + 0.5, padding=0)
            else:
                plot.enableAutoRange(axis="x")

    def data_of(self, key: str) -> tuple[list[float], list[float]]:
        xs, ys = self.curves[key].getData()
        return ([] if xs is None else list(xs)), ([] if ys is None else list(ys))

    def set_overlays(self, runs: list) -> None:
        """Dashed validation curves of earlier runs (``RunInfo`` objects); others are removed."""
        wanted = {str(r.path): r for r in runs}
        if wanted:
            self.plan_epochs(None)  # runs of other lengths: show them whole
        for key in list(self._overlays):
            if key not in wanted:
                for plot, item in self._overlays.pop(key):
                    plot.removeItem(item)
        for n, (key, run) in enumerate(wanted.items()):
            color = OVERLAY_COLORS[n % len(OVERLAY_COLORS)]
            pen = pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine)
            if key not in self._overlays:
                loss = self.loss_plot.plot(name=f"{run.name} val", pen=pen)
                acc = self.acc_plot.plot(name=f"{run.name} val", pen=pen)
                self._overlays[key] = [(self.loss_plot, loss), (self.acc_plot, acc)]
            (_, loss), (_, acc) = self._overlays[key]
            loss.setData(*run.series("val_loss"))
            acc.setData(*run.series("val_accuracy"))
        for plot in (self.loss_plot, self.acc_plot):
            legend = plot.getPlotItem().legend
            if legend is not None:
                theme_legend(legend, plot.palette())

    @property
    def overlay_count(self) -> int:
        return len(self._overlays)
