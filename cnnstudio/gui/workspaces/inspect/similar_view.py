"""Similar images: the input's nearest neighbours in penultimate-layer space, and a 2-D map (PCA) of the
validation set coloured by class, with the hovered image's thumbnail."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.numbers import human_number
from cnnstudio.gui.theme import follow_palette, theme_graphics
from cnnstudio.gui.workspaces.inspect.image_view import ImageView
from cnnstudio.gui.workspaces.inspect.tiles import labelled_tile, sample_tile

PALETTE = np.array(
    [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
     (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)],
    dtype=np.uint8,
)


#: pixels a side of each neighbour's tile: its class and distance captions stay readable
TILE = 112


class SimilarView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        import pyqtgraph as pg

        super().__init__(parent)
        self.k = QSpinBox()
        self.k.setRange(1, 32)
        self.k.setValue(8)
        self.k.setToolTip("How many neighbours to show")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.grid = ImageView(minimum=160)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "PC 1")
        self.plot.setLabel("left", "PC 2")
        self.plot.setMouseTracking(True)
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.current = pg.ScatterPlotItem(size=16, symbol="star", brush=pg.mkBrush(255, 255, 0))
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.current)
        self.legend = QLabel()  # below the map, not over its points
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("The colour of each class on the map")
        follow_palette(self.plot, self._theme_map)
        self.hover = ImageView(minimum=96)
        self.hover.setFixedSize(110, 110)
        self.hover_label = QLabel("Hover a point of the map")
        self.hover_label.setFixedWidth(110)
        self.hover_label.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.hover)
        side.addWidget(self.hover_label)
        side.addStretch(1)
        map_box = QWidget()
        map_row = QHBoxLayout(map_box)
        map_row.setContentsMargins(0, 0, 0, 0)
        plot_column = QVBoxLayout()
        plot_column.addWidget(self.plot, 1)
        plot_column.addWidget(self.legend)
        map_row.addLayout(plot_column, 1)
        map_row.addLayout(side)
        split = QSplitter()
        split.addWidget(self.grid)
        split.addWidget(map_box)
        split.setSizes([340, 660])
        split.setStretchFactor(1, 1)
        top = QHBoxLayout()
        top.addWidget(QLabel("Neighbours:"))
        top.addWidget(self.k)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._session = None
        self._xy: np.ndarray | None = None
        self._map_for = None
        self.plot.scene().sigMouseMoved.connect(self._on_mouse)
        self.k.valueChanged.connect(lambda _v: self._session is not None and self.update_view(self._session))

    def update_view(self, session) -> None:
        from cnnstudio.core.errors import UserError
        from cnnstudio.ml.inspect.render import tile_images

        self._session = session
        if session.model is None or session.input is None:
            self.grid.set_message("Open a model and an image to find similar images.")
            return
        try:
            found = session.neighbours(self.k.value())
            xy = session.embedding_map()
        except UserError as exc:
            self.grid.set_message(str(exc))
            self.caption.setText("")
            self.scatter.clear()
            self.current.clear()
            return
        data = session.dataset
        labels = [data.classes[int(data.val_y[i])] for i in found.indices]
        tiles = np.stack([labelled_tile(data.val_x[i], c, f"d {human_number(d)}", size=TILE)
                          for i, c, d in zip(found.indices, labels, found.distances)])
        image, _layout = tile_images(tiles, labels=False)
        self.grid.set_image(image)
        self.grid.setToolTip("\n".join(f"#{i}: class {c}, distance {human_number(d)}"
                                       for i, c, d in zip(found.indices, labels, found.distances)))
        self.caption.setText(f"The {len(found.indices)} validation images nearest to the input in the network's "
                             "penultimate layer (class, Euclidean distance). Hover the map to preview an image.")
        self.last_neighbours = found
        if self._map_for is not session.model or self._xy is None or len(self._xy) != len(xy):
            import pyqtgraph as pg

            colours = PALETTE[data.val_y.numpy() % len(PALETTE)]
            self.scatter.setData(x=xy[:, 0], y=xy[:, 1], brush=[pg.mkBrush(*c) for c in colours])
            self._map_for = session.model
            self._xy = xy
            self.plot.setTitle("PCA map, colour = class")  # short: a long title widens the plot past its pane
            self.plot.setToolTip(f"The {len(xy)} validation embeddings projected on their first two principal "
                                 "components; the star is the input")
            self._fill_legend(data.classes)
            self._theme_map()
        if session.input.sample is not None:
            p = xy[session.input.sample]
            self.current.setData(x=[p[0]], y=[p[1]])
        else:
            self.current.clear()

    def _fill_legend(self, classes) -> None:
        """One entry per class, in the colour its points have on the map."""
        entries = []
        for n, name in enumerate(classes):
            r, g, b = (int(v) for v in PALETTE[n % len(PALETTE)])
            entries.append(f"<span style='color:rgb({r},{g},{b}); font-size:14px'>●</span>&nbsp;{html.escape(str(name))}")
        self._legend_names = [str(c) for c in classes]
        self.legend.setText("Classes: " + " &nbsp; ".join(entries))

    def legend_names(self) -> list[str]:
        return list(getattr(self, "_legend_names", []))

    def _theme_map(self) -> None:
        import pyqtgraph as pg

        theme_graphics(self.plot)
        self.current.setPen(pg.mkPen(self.plot.palette().color(self.plot.foregroundRole()), width=1.5))

    def _on_mouse(self, pos) -> None:
        if self._xy is None or self._session is None or self._session.dataset is None:
            return
        view = self.plot.getPlotItem().vb
        if not self.plot.sceneBoundingRect().contains(pos):
            return
        point = view.mapSceneToView(pos)
        index = self.nearest_point(point.x(), point.y(), view.viewPixelSize())
        if index is not None:
            self.show_hover(index)

    def nearest_point(self, x: float, y: float, pixel_size=(1.0, 1.0), radius_px: float = 8.0) -> int | None:
        """The map point under (x, y) in data coordinates within ``radius_px`` screen pixels, or None."""
        if self._xy is None or len(self._xy) == 0:
            return None
        px, py = max(pixel_size[0], 1e-12), max(pixel_size[1], 1e-12)
        d = ((self._xy[:, 0] - x) / px) ** 2 + ((self._xy[:, 1] - y) / py) ** 2
        index = int(np.argmin(d))
        return index if d[index] <= radius_px**2 else None

    def show_hover(self, index: int) -> None:
        data = self._session.dataset
        self.hover.set_image(sample_tile(data.val_x[index], 96))
        self.hover_label.setText(f"#{index}\nclass {data.classes[int(data.val_y[index])]}")
