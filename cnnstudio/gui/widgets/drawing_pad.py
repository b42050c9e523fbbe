"""A drawing pad: draw a digit (or anything) with the mouse and hand the picture to a model.

:class:`DrawingCanvas` is the square you draw on (strokes with round ends, kept so the last one can be
undone); :class:`DrawingPad` adds the brush size, ink colours, Undo stroke and Clear. ``changed`` fires
while drawing, throttled (superqt ``qthrottled``) so a model runs a few times a second, not per mouse move,
and once more when a stroke ends. :meth:`image` is the picture as uint8 gray, at the canvas's size.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

CANVAS = 280  # pixels a side (ten times MNIST's 28)
THROTTLE_MS = 80
WHITE_ON_BLACK, BLACK_ON_WHITE = "white-on-black", "black-on-white"


class DrawingCanvas(QWidget):
    """The square drawn on. ``stroke_changed`` per mouse move; ``stroke_finished`` at each release."""

    stroke_changed = Signal()
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None, size: int = CANVAS):
        super().__init__(parent)
        self._size = size
        self.brush = 22
        self.polarity = BLACK_ON_WHITE  # pen on paper, as a photo of a digit: what the models' preprocessing expects
        self.strokes: list[tuple[int, list[QPointF]]] = []  # (brush, points in canvas pixels)
        self._drawing = False
        self._image = QImage(size, size, QImage.Format.Format_Grayscale8)
        self._redraw()
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self._size, self._size)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return width

    # --- colours and content ---------------------------------------------------------------------
    def ink(self) -> int:
        return 255 if self.polarity == WHITE_ON_BLACK else 0

    def paper(self) -> int:
        return 255 - self.ink()

    def is_empty(self) -> bool:
        return not self.strokes

    def image(self) -> np.ndarray:
        """The drawing as uint8 (H, W) gray: ink on paper in the chosen colours."""
        width = self._image.width()
        bits = np.frombuffer(self._image.constBits(), dtype=np.uint8)
        rows = bits.reshape(self._image.height(), self._image.bytesPerLine())
        return rows[:, :width].copy()

    def clear(self) -> None:
        self.strokes.clear()
        self._redraw()
        self.stroke_finished.emit()

    def undo_stroke(self) -> bool:
        if not self.strokes:
            return False
        self.strokes.pop()
        self._redraw()
        self.stroke_finished.emit()
        return True

    def set_polarity(self, polarity: str) -> None:
        self.polarity = polarity
        self._redraw()
        self.stroke_finished.emit()

    def _pen(self, brush: int) -> QPen:
        value = self.ink()
        return QPen(QColor(value, value, value), brush, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                    Qt.PenJoinStyle.RoundJoin)

    def _redraw(self) -> None:
        self._image.fill(QColor(self.paper(), self.paper(), self.paper()))
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for brush, points in self.strokes:
            self._paint_stroke(painter, brush, points)
        painter.end()
        self.update()

    def _paint_stroke(self, painter: QPainter, brush: int, points: list[QPointF]) -> None:
        painter.setPen(self._pen(brush))
        if len(points) == 1:
            painter.drawPoint(points[0])
            return
        path = QPainterPath(points[0])
        for p in points[1:]:
            path.lineTo(p)
        painter.drawPath(path)

    # --- mouse -----------------------------------------------------------------------------------
    def _target(self):
        side = min(self.width(), self.height())
        return (self.width() - side) / 2, (self.height() - side) / 2, side

    def to_canvas(self, pos: QPointF) -> QPointF:
        x0, y0, side = self._target()
        scale = self._size / max(1, side)
        return QPointF((pos.x() - x0) * scale, (pos.y() - y0) * scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._drawing = True
        self.strokes.append((self.brush, [self.to_canvas(event.position())]))
        self._extend_last(None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if not self._drawing or not self.strokes:
            return super().mouseMoveEvent(event)
        points = self.strokes[-1][1]
        previous = points[-1]
        points.append(self.to_canvas(event.position()))
        self._extend_last(previous)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drawing and event.button() == Qt.MouseButton.LeftButton:
            self._drawing = False
            self._redraw()  # the stroke as one path: the same pixels as after an undo of a later stroke
            self.stroke_finished.emit()
        else:
            super().mouseReleaseEvent(event)

    def _extend_last(self, previous: QPointF | None) -> None:
        """Paint the newest segment of the stroke being drawn (not the whole drawing again)."""
        brush, points = self.strokes[-1]
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen(brush))
        if previous is None:
            painter.drawPoint(points[-1])
        else:
            painter.drawLine(previous, points[-1])
        painter.end()
        self.update()
        self.stroke_changed.emit()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        x0, y0, side = self._target()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QPointF(x0, y0), self._image.scaled(int(side), int(side),
                                                              Qt.AspectRatioMode.IgnoreAspectRatio,
                                                              Qt.TransformationMode.SmoothTransformation))
        painter.setPen(self.palette().color(self.palette().ColorRole.Mid))
        painter.drawRect(int(x0), int(y0), int(side) - 1, int(side) - 1)
        painter.end()


class DrawingPad(QWidget):
    """The canvas with its tools. ``changed`` (throttled while drawing) when the picture changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, throttle_ms: int = THROTTLE_MS):
        from superqt.utils import qthrottled

        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.brush_spin = QSpinBox(minimum=4, maximum=60, value=self.canvas.brush, suffix=" px")
        self.brush_spin.setToolTip(f"Brush size in pixels of the {CANVAS}×{CANVAS} pad")
        self.colours = QComboBox()
        self.colours.addItem("Black on white", BLACK_ON_WHITE)
        self.colours.addItem("White on black", WHITE_ON_BLACK)
        self.colours.setToolTip("Ink and paper colours (the model's preprocessing decides how it reads them)")
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo stroke")
        self.undo_button.setToolTip("Remove the last stroke (Backspace)")
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Start again on an empty pad (Delete)")
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush_spin)
        tools.addWidget(self.colours)
        tools.addStretch(1)
        tools.addWidget(self.undo_button)
        tools.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        self.action_undo = self._action("Undo Stroke", Qt.Key.Key_Backspace, self.canvas.undo_stroke)
        self.action_clear = self._action("Clear Drawing", QKeySequence.StandardKey.Delete, self.canvas.clear)
        self._throttled = qthrottled(self.changed.emit, timeout=throttle_ms, leading=True, parent=self)
        self.brush_spin.valueChanged.connect(self._set_brush)
        self.colours.currentIndexChanged.connect(lambda _i: self.canvas.set_polarity(self.colours.currentData()))
        self.undo_button.clicked.connect(self.canvas.undo_stroke)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.canvas.stroke_changed.connect(self._throttled)
        self.canvas.stroke_finished.connect(self._finished)

    def _action(self, text: str, key, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        return action

    def _set_brush(self, value: int) -> None:
        self.canvas.brush = int(value)

    def _finished(self) -> None:
        self._throttled.cancel()  # the picture as it is now, at once
        self.changed.emit()

    def image(self) -> np.ndarray:
        return self.canvas.image()

    def is_empty(self) -> bool:
        return self.canvas.is_empty()

    def set_polarity(self, polarity: str) -> None:
        self.colours.setCurrentIndex(self.colours.findData(polarity))

    def clear(self) -> None:
        self.canvas.clear()
