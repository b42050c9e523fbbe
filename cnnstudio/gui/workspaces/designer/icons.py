"""Layer icons drawn with QPainter, one motif per category, so no image files are needed."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from cnnstudio.gui.workspaces.designer.volume import CATEGORY_COLOURS


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, QColor("#90a4ae")))


def _grid(p: QPainter, rect: QRectF, n: int, colour: QColor) -> None:
    step = rect.width() / n
    p.setPen(QPen(colour.darker(170), 1.0))
    for i in range(n):
        for j in range(n):
            p.setBrush(colour if (i + j) % 2 == 0 else colour.lighter(130))
            p.drawRect(QRectF(rect.left() + i * step, rect.top() + j * step, step, step))


def _draw(p: QPainter, category: str, type_name: str, s: float) -> None:
    colour = category_colour(category)
    dark = colour.darker(170)
    if category == "Convolution":
        _grid(p, QRectF(s * 0.08, s * 0.08, s * 0.6, s * 0.6), 3, colour.lighter(115))
        p.setBrush(colour)
        p.setPen(QPen(dark, 1.2))
        p.drawRect(QRectF(s * 0.5, s * 0.5, s * 0.42, s * 0.42))
    elif category == "Pooling":
        _grid(p, QRectF(s * 0.06, s * 0.06, s * 0.5, s * 0.5), 2, colour.lighter(115))
        p.setPen(QPen(dark, 1.4))
        p.drawLine(QPointF(s * 0.56, s * 0.56), QPointF(s * 0.68, s * 0.68))
        p.setBrush(colour)
        p.drawRect(QRectF(s * 0.66, s * 0.66, s * 0.28, s * 0.28))
        if "global" in type_name:
            p.drawEllipse(QRectF(s * 0.7, s * 0.7, s * 0.2, s * 0.2))
    elif category == "Activation":
        p.setPen(QPen(dark, 1.6))
        path = QPainterPath(QPointF(s * 0.08, s * 0.8))
        if type_name in ("sigmoid", "tanh", "softmax"):
            path.cubicTo(QPointF(s * 0.55, s * 0.8), QPointF(s * 0.45, s * 0.2), QPointF(s * 0.92, s * 0.2))
        elif type_name == "sign":
            path.lineTo(QPointF(s * 0.5, s * 0.8))
            path.moveTo(QPointF(s * 0.5, s * 0.2))
            path.lineTo(QPointF(s * 0.92, s * 0.2))
        else:
            path.lineTo(QPointF(s * 0.5, s * (0.72 if type_name == "leaky_relu" else 0.8)))
            path.lineTo(QPointF(s * 0.92, s * 0.15))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.setPen(QPen(colour.darker(120), 0.8, Qt.PenStyle.DotLine))
        p.drawLine(QPointF(s * 0.05, s * 0.8), QPointF(s * 0.95, s * 0.8))
    elif category == "Normalization":
        p.setPen(QPen(dark, 1.4))
        p.setBrush(colour)
        path = QPainterPath(QPointF(s * 0.05, s * 0.85))
        path.cubicTo(QPointF(s * 0.4, s * 0.85), QPointF(s * 0.35, s * 0.1), QPointF(s * 0.5, s * 0.1))
        path.cubicTo(QPointF(s * 0.65, s * 0.1), QPointF(s * 0.6, s * 0.85), QPointF(s * 0.95, s * 0.85))
        path.closeSubpath()
        if type_name == "dropout":
            p.setBrush(Qt.BrushStyle.NoBrush)
            for x, y, on in ((0.25, 0.3, True), (0.7, 0.3, False), (0.25, 0.72, False), (0.7, 0.72, True)):
                p.setBrush(colour if on else Qt.BrushStyle.NoBrush)
                p.drawEllipse(QRectF(s * (x - 0.15), s * (y - 0.15), s * 0.3, s * 0.3))
            return
        p.drawPath(path)
    elif category == "Dense":
        p.setPen(QPen(dark, 0.8))
        left = [s * 0.2, s * 0.5, s * 0.8]
        right = [s * 0.33, s * 0.67]
        for ly in left:
            for ry in right:
                p.drawLine(QPointF(s * 0.22, ly), QPointF(s * 0.78, ry))
        p.setBrush(colour)
        p.setPen(QPen(dark, 1.2))
        for ly in left:
            p.drawEllipse(QPointF(s * 0.2, ly), s * 0.11, s * 0.11)
        for ry in right:
            p.drawEllipse(QPointF(s * 0.8, ry), s * 0.11, s * 0.11)
    else:  # Shape and anything new
        p.setPen(QPen(dark, 1.2))
        p.setBrush(colour.lighter(120))
        p.drawRect(QRectF(s * 0.06, s * 0.2, s * 0.36, s * 0.6))
        p.drawLine(QPointF(s * 0.48, s * 0.5), QPointF(s * 0.66, s * 0.5))
        p.drawLine(QPointF(s * 0.6, s * 0.42), QPointF(s * 0.66, s * 0.5))
        p.drawLine(QPointF(s * 0.6, s * 0.58), QPointF(s * 0.66, s * 0.5))
        p.setBrush(colour)
        p.drawRect(QRectF(s * 0.74, s * 0.05, s * 0.16, s * 0.9))


@lru_cache(maxsize=256)
def layer_pixmap(category: str, type_name: str, size: int = 22, ratio: float = 2.0) -> QPixmap:
    """A ``size`` x ``size`` (device-independent) picture of a layer type."""
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    _draw(painter, category, type_name, float(size))
    painter.end()
    return pixmap


def layer_icon(category: str, type_name: str) -> QIcon:
    return QIcon(layer_pixmap(category, type_name))
