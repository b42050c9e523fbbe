"""Small views the Lab's tabs share: themed plots, captioned image tiles and a progress line with ETA."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

#: series colours (Tableau 10), readable on light and dark backgrounds
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget with a title and axis labels, coloured from its palette now and after every theme change
    (:func:`cnnstudio.gui.theme.follow_palette`)."""

    def __init__(self, title: str = "", xlabel: str = "", ylabel: str = "", parent: QWidget | None = None):
        from cnnstudio.gui.theme import follow_palette

        super().__init__(parent)
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            # before any label shows: pyqtgraph would otherwise freeze a x1000 scale on a 0-0.3 axis
            item.getAxis(name).enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.addLegend(offset=(-10, -10))
        self._show_legend()
        # PlotWidget binds addItem to its PlotItem per instance; this one also shows the legend it fills
        self.addItem = self._add_item
        self.setMinimumHeight(160)
        if title:
            item.setTitle(title)
        if xlabel:
            item.setLabel("bottom", xlabel)
        if ylabel:
            item.setLabel("left", ylabel)
        follow_palette(self)

    def set_xlabel(self, text: str) -> None:
        from cnnstudio.gui.theme import plot_colours

        self.getPlotItem().setLabel("bottom", text, color=plot_colours(self.palette())["foreground"].name())

    def line(self, name: str, index: int, dashed: bool = False):
        """A new curve item in series colour ``index``."""
        colour = COLOURS[index % len(COLOURS)]
        pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        item = self.plot([], [], name=name, pen=pen, symbol="o", symbolSize=6, symbolBrush=colour)
        self._show_legend()
        return item

    def _add_item(self, *args, **kwargs) -> None:
        self.getPlotItem().addItem(*args, **kwargs)
        self._show_legend()

    def reset(self) -> None:
        self.clear()
        if self.legend is not None:
            self.legend.clear()
        self._show_legend()

    def _show_legend(self) -> None:
        """The legend's framed box only while it lists something."""
        if self.legend is not None:
            self.legend.setVisible(bool(self.legend.items))


def fit_rows(table, rows: int) -> None:
    """A table exactly as tall as its header and ``rows`` rows at the current font (no blank strip)."""
    height = table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(height + 2 * table.frameWidth())


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) float in [0, 1], or (H, W, 3) uint8, as contiguous uint8 (H, W, 3)."""
    a = np.asarray(image)
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
        return np.ascontiguousarray(a)
    a = a.astype(np.float32)
    if a.ndim == 3:
        a = np.repeat(a, 3, 0) if a.shape[0] == 1 else a[:3]
        a = np.transpose(a, (1, 2, 0))
    else:
        a = np.repeat(a[..., None], 3, 2)
    return np.ascontiguousarray((a.clip(0, 1) * 255 + 0.5).astype(np.uint8))


def heat_rgb(heat: np.ndarray) -> np.ndarray:
    """A (H, W) heat map in [0, 1] in the inferno-like colours pyqtgraph ships."""
    cmap = pg.colormap.get("inferno")
    lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
    return np.ascontiguousarray(lut[(np.asarray(heat).clip(0, 1) * 255).astype(np.int64)])


class ImageTile(QWidget):
    """An image scaled up without smoothing (pixels stay pixels) with a caption under it."""

    def __init__(self, caption: str = "", size: int = 168, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.picture = QLabel()
        self.picture.setFixedSize(size, size)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("border: 1px solid palette(mid);")
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.caption.setMaximumWidth(size + 40)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        self._size = size

    def set_image(self, image: np.ndarray | None, caption: str | None = None) -> None:
        if caption is not None:
            self.caption.setText(caption)
        if image is None:
            self.picture.clear()
            return
        rgb = to_rgb8(image)
        h, w = rgb.shape[:2]
        qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        pix = QPixmap.fromImage(qimage).scaled(self._size, self._size, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation)
        self.picture.setPixmap(pix)


class ProgressLine(QWidget):
    """A progress bar with a sentence and an ETA ("epoch 3/12 · 0:04 left")."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label, 2)
        self._start = time.perf_counter()

    def begin(self, text: str) -> None:
        self._start = time.perf_counter()
        self.bar.setRange(0, 0)  # busy until the first fraction arrives
        self.label.setText(text)

    def set_fraction(self, fraction: float, text: str) -> None:
        fraction = min(1.0, max(0.0, fraction))
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(fraction * 1000))
        elapsed = time.perf_counter() - self._start
        eta = ""
        if 0.02 < fraction < 1.0 and elapsed > 0.5:
            left = int(elapsed / fraction * (1 - fraction))
            eta = f" · {left // 60}:{left % 60:02d} left"
        self.label.setText(text + eta)

    def done(self, text: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000)
        self.label.setText(text)

    def failed(self, text: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.label.setText(text)
