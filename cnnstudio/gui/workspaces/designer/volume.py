"""The classic volume diagram: feature maps as boxes (height x width, depth by channels), dense layers as bars.

Layers that keep their input's shape (activations, normalisation, dropout) join the box of the layer
before them, so the picture shows the network's stages the way textbooks draw LeNet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QWidget

#: fill colour of a volume by the category of the layer that produced it
CATEGORY_COLOURS = {
    "Input": QColor("#b0bec5"),
    "Convolution": QColor("#64b5f6"),
    "Pooling": QColor("#ffb74d"),
    "Activation": QColor("#aed581"),
    "Normalization": QColor("#ce93d8"),
    "Dense": QColor("#4db6ac"),
    "Shape": QColor("#90a4ae"),
}
ERROR_COLOUR = QColor("#e53935")
UNKNOWN_COLOUR = QColor("#bdbdbd")
MARGIN = 16.0
GAP = 30.0
LABEL_LINES = 3


@dataclass
class Volume:
    """One drawn stage: the output of ``ids[0]`` and the shape-keeping layers after it."""

    ids: list[str]
    titles: list[str]
    shape: tuple[int, ...] | None
    category: str
    error: str | None = None
    frozen: bool = False
    geometry: dict = field(default_factory=dict)

    @property
    def caption(self) -> str:
        return " + ".join(self.titles)

    @property
    def shape_text(self) -> str:
        if self.shape is None:
            return "invalid" if self.error else "?"
        if len(self.shape) == 3:
            c, h, w = self.shape
            return f"{c}@{h}×{w}"
        return " × ".join(str(s) for s in self.shape)


def build_volumes(input_shape: tuple[int, ...] | None, layers: list[dict]) -> list[Volume]:
    """Group layers into drawn stages.

    ``layers`` are dicts with ``id``, ``title`` (short type name), ``category``, ``shape`` (output shape
    or None), ``error`` and ``frozen``. A layer whose output shape equals the previous stage's joins it.
    """
    volumes = [Volume(["input"], ["input"], tuple(input_shape) if input_shape else None, "Input")]
    for layer in layers:
        shape = tuple(layer["shape"]) if layer.get("shape") is not None else None
        last = volumes[-1]
        same = shape is not None and shape == last.shape and layer.get("error") is None and last.error is None
        if same and len(volumes) > 1:
            last.ids.append(layer["id"])
            last.titles.append(layer["title"])
            last.frozen = last.frozen and layer.get("frozen", False)
            continue
        volumes.append(
            Volume(
                [layer["id"]],
                [layer["title"]],
                shape,
                layer.get("category", ""),
                layer.get("error"),
                bool(layer.get("frozen", False)),
            )
        )
    return volumes


def _size_px(n: int, scale: float, base: float, limit: float) -> float:
    """Logarithmic size so a 224x224 map and a 4x4 map both fit and stay comparable."""
    return min(limit, base + scale * math.log2(max(1, n)))


def layout_volumes(volumes: list[Volume], font: QFont) -> QSizeF:
    """Place the volumes left to right; stores each one's geometry and returns the needed size."""
    metrics = QFontMetricsF(font)
    line = metrics.height()
    x = MARGIN
    tallest = 0.0
    for volume in volumes:
        shape = volume.shape
        if shape is not None and len(shape) == 3:
            c, h, w = shape
            face_h = _size_px(h, 20.0, 14.0, 190.0)
            oblique = _size_px(w, 10.0, 6.0, 90.0)
            thick = _size_px(c, 5.0, 4.0, 70.0)
            kind = "box"
        elif shape is not None and len(shape) >= 1:
            n = int(math.prod(shape))
            face_h = _size_px(n, 16.0, 14.0, 230.0)
            oblique = 0.0
            thick = 12.0
            kind = "bar"
        else:
            face_h, oblique, thick, kind = 60.0, 14.0, 24.0, "invalid"
        label_w = max(metrics.horizontalAdvance(volume.shape_text), metrics.horizontalAdvance(_short(volume)))
        body_w = thick + oblique
        width = max(body_w, label_w)
        volume.geometry = {
            "kind": kind,
            "x": x + (width - body_w) / 2,
            "face_h": face_h,
            "oblique": oblique,
            "thick": thick,
            "slot": (x, width),
        }
        tallest = max(tallest, face_h + oblique * 0.6)
        x += width + GAP
    body_top = MARGIN
    baseline = body_top + tallest
    for volume in volumes:
        volume.geometry["bottom"] = baseline
    height = baseline + line * (LABEL_LINES - 1) + MARGIN
    return QSizeF(max(x - GAP + MARGIN, 200.0), height)


def _short(volume: Volume) -> str:
    text = volume.caption
    return text if len(text) <= 22 else text[:21] + "…"


def paint_volumes(
    painter: QPainter,
    volumes: list[Volume],
    font: QFont,
    text_colour: QColor,
    selected: set[str] | frozenset = frozenset(),
) -> None:
    """Draw laid-out volumes with their shapes and layer names."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    line = metrics.height()
    for volume in volumes:
        g = volume.geometry
        if not g:
            continue
        x, bottom, face_h, oblique, thick = g["x"], g["bottom"], g["face_h"], g["oblique"], g["thick"]
        dx, dy = oblique, -oblique * 0.6
        top = bottom - face_h
        if volume.error:
            base = ERROR_COLOUR
        elif volume.shape is None:  # fine itself, but after a broken layer
            base = UNKNOWN_COLOUR
        else:
            base = CATEGORY_COLOURS.get(volume.category, QColor("#90a4ae"))
        if volume.frozen:
            base = QColor(base).darker(115)
            base.setHsv(base.hue(), max(0, base.saturation() // 3), base.value())
        edge = base.darker(160)
        highlight = bool(selected) and any(i in selected for i in volume.ids)
        pen = QPen(QColor("#1565c0") if highlight else edge, 2.2 if highlight else 1.0)
        if volume.shape is None:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        front = QRectF(x, top, thick, face_h)
        if oblique > 0:
            top_face = QPolygonF(
                [
                    QPointF(x, top),
                    QPointF(x + dx, top + dy),
                    QPointF(x + thick + dx, top + dy),
                    QPointF(x + thick, top),
                ]
            )
            side = QPolygonF(
                [
                    QPointF(x + thick, top),
                    QPointF(x + thick + dx, top + dy),
                    QPointF(x + thick + dx, bottom + dy),
                    QPointF(x + thick, bottom),
                ]
            )
            painter.setBrush(base.lighter(125))
            painter.drawPolygon(top_face)
            painter.setBrush(base.darker(115))
            painter.drawPolygon(side)
            if volume.shape is not None and len(volume.shape) == 3 and volume.shape[0] > 1 and thick > 10:
                _draw_slices(painter, volume.shape[0], x, top, thick, dx, dy, edge)
        painter.setBrush(base)
        painter.drawRect(front)
        if volume.shape is None:
            painter.setPen(QPen(QColor("white")))
            painter.drawText(QRectF(x, top, thick + dx, face_h), Qt.AlignmentFlag.AlignCenter, "?")
        slot_x, slot_w = g["slot"]
        painter.setPen(QPen(ERROR_COLOUR if volume.error else text_colour))
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(
            QRectF(slot_x - GAP / 2, bottom + 4, slot_w + GAP, line),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            volume.shape_text,
        )
        painter.setFont(font)
        painter.setPen(
            QPen(text_colour.lighter(140) if text_colour.lightness() < 128 else text_colour.darker(130))
        )
        painter.drawText(
            QRectF(slot_x - GAP / 2, bottom + 4 + line, slot_w + GAP, line),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            _short(volume),
        )


def _draw_slices(
    painter: QPainter, channels: int, x: float, top: float, thick: float, dx: float, dy: float, edge: QColor
) -> None:
    """Thin lines on the top face, one per channel (up to 16), so depth reads as a stack of maps."""
    count = min(channels, 16)
    pen = QPen(edge, 0.6)
    painter.setPen(pen)
    path = QPainterPath()
    for i in range(1, count):
        sx = x + thick * i / count
        path.moveTo(sx, top)
        path.lineTo(sx + dx, top + dy)
    painter.drawPath(path)
    painter.setPen(QPen(edge, 1.0))


class VolumeCanvas(QWidget):
    """Paints the diagram; its size follows the content so a scroll area can scroll it."""

    volume_clicked = Signal(str)  # the first layer id of the clicked volume ("input" for the input)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._volumes: list[Volume] = []
        self._selected: set[str] = set()
        self._size = QSizeF(200, 150)
        self._scale = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def set_volumes(self, volumes: list[Volume]) -> None:
        self._volumes = volumes
        self._size = layout_volumes(volumes, self.font())
        self._apply_size()
        self.update()

    def set_scale(self, scale: float) -> None:
        """Draw at ``scale`` (the diagram shrinks to fit its panel)."""
        if abs(scale - self._scale) > 1e-3:
            self._scale = scale
            self._apply_size()
            self.update()

    def scale(self) -> float:
        return self._scale

    def _apply_size(self) -> None:
        size = QSize(
            math.ceil(self._size.width() * self._scale), math.ceil(self._size.height() * self._scale)
        )
        if size != self.size():
            self.setFixedSize(size)

    def set_selected(self, ids: set[str]) -> None:
        if ids != self._selected:
            self._selected = set(ids)
            self.update()

    def volumes(self) -> list[Volume]:
        return list(self._volumes)

    def content_size(self) -> QSizeF:
        return QSizeF(self._size)

    def text_colour(self) -> QColor:
        return self.palette().color(self.foregroundRole())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.scale(self._scale, self._scale)
        paint_volumes(painter, self._volumes, self.font(), self.text_colour(), self._selected)
        painter.end()

    def volume_at(self, pos: QPointF) -> Volume | None:
        """The volume under widget position ``pos``."""
        pos = QPointF(pos.x() / self._scale, pos.y() / self._scale)
        for volume in self._volumes:
            g = volume.geometry
            if not g:
                continue
            slot_x, slot_w = g["slot"]
            if slot_x - GAP / 2 <= pos.x() <= slot_x + slot_w + GAP / 2:
                return volume
        return None

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            volume = self.volume_at(QPointF(event.pos()))
            if volume is not None:
                from PySide6.QtWidgets import QToolTip

                text = f"{volume.caption}\noutput {volume.shape_text}"
                if volume.error:
                    text += f"\n{volume.error}"
                QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        volume = self.volume_at(event.position())
        if volume is not None:
            self.volume_clicked.emit(volume.ids[0])
        super().mousePressEvent(event)


class VolumeDiagram(QScrollArea):
    """The scrollable volume diagram with PNG / SVG / PDF export."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = VolumeCanvas()
        self.setWidget(self.canvas)
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("Feature maps drawn to scale (logarithmic): height × width, depth = channels")

    def set_volumes(self, volumes: list[Volume]) -> None:
        self.canvas.set_volumes(volumes)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Shrink to the panel's height (never below 45 %), and to its width when that stays readable."""
        content = self.canvas.content_size()
        view = self.viewport().size()
        if content.width() <= 0 or content.height() <= 0 or view.height() <= 0:
            return
        fit_h = (view.height() - 2) / content.height()
        fit_w = (view.width() - 2) / content.width()
        scale = min(1.0, fit_h, fit_w if fit_w >= 0.8 else 1.0)
        self.canvas.set_scale(max(0.45, scale))

    def _render(self, painter: QPainter, background: QColor | None) -> None:
        size = self.canvas.content_size()
        if background is not None:
            painter.fillRect(QRectF(0, 0, size.width(), size.height()), background)
        paint_volumes(painter, self.canvas.volumes(), self.canvas.font(), QColor("#212121"))

    def export_image(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the diagram to ``path``: .svg (vector), .pdf (vector) or a raster image (.png, ...)."""
        path = Path(path)
        size = self.canvas.content_size()
        suffix = path.suffix.lower()
        if suffix == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(math.ceil(size.width()), math.ceil(size.height())))
            generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
            generator.setTitle("CNN Studio volume diagram")
            painter = QPainter(generator)
            self._render(painter, QColor("white"))
            painter.end()
        elif suffix == ".pdf":
            from PySide6.QtCore import QMarginsF
            from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter

            writer = QPdfWriter(str(path))
            writer.setPageSize(QPageSize(size, QPageSize.Unit.Point))
            writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Point)
            writer.setResolution(72)
            painter = QPainter(writer)
            self._render(painter, QColor("white"))
            painter.end()
        else:
            image = QImage(
                math.ceil(size.width() * scale), math.ceil(size.height() * scale), QImage.Format.Format_ARGB32
            )
            image.fill(QColor("white"))
            painter = QPainter(image)
            painter.scale(scale, scale)
            self._render(painter, None)
            painter.end()
            if not image.save(str(path)):
                raise OSError(f"Qt could not write an image to {path}")
        if not path.exists():
            raise OSError(f"the diagram could not be written to {path}")
        return path
