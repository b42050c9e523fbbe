"""A widget that shows a numpy image scaled to fit (nearest-neighbour, so pixels stay crisp) and reports
clicks and hovers in image coordinates."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (H, W) gray or (H, W, 3) RGB -> a QImage that owns a copy of the pixels."""
    img = np.ascontiguousarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 1:
        img = np.ascontiguousarray(img[:, :, 0])
    h, w = img.shape[:2]
    if img.ndim == 2:
        return QImage(img.data, w, h, img.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(img.data, w, h, img.strides[0], QImage.Format.Format_RGB888).copy()


class ImageView(QWidget):
    """Shows one image centred and scaled to fit. ``clicked(x, y)`` / ``hovered(x, y)`` in image pixels."""

    clicked = Signal(float, float)
    hovered = Signal(float, float)

    def __init__(self, parent: QWidget | None = None, minimum: int = 96, smooth: bool = False):
        super().__init__(parent)
        self._image: QImage | None = None
        self._array: np.ndarray | None = None
        self._message = ""
        self._smooth = smooth
        self._minimum = minimum
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(max(self._minimum, 240), max(self._minimum, 240))

    def set_image(self, image: np.ndarray | None) -> None:
        self._array = None if image is None else np.asarray(image)
        self._image = None if image is None else to_qimage(image)
        self._message = ""
        self.update()

    def set_message(self, text: str) -> None:
        """Show a sentence instead of an image (an empty state or an error)."""
        self._image = None
        self._array = None
        self._message = text
        self.setToolTip(text)
        self.update()

    def image(self) -> np.ndarray | None:
        return self._array

    def message(self) -> str:
        return self._message

    def target_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        if not self._smooth and scale >= 3:
            scale = float(int(scale))  # integer zoom keeps pixels square where it costs little room
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_image(self, pos: QPointF) -> tuple[float, float] | None:
        rect = self.target_rect()
        if self._image is None or not rect.contains(pos):
            return None
        return ((pos.x() - rect.x()) * self._image.width() / rect.width(),
                (pos.y() - rect.y()) * self._image.height() / rect.height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._smooth)
            painter.drawImage(self.target_rect(), self._image)
        elif self._message:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
        else:
            painter.fillRect(self.rect(), QColor(0, 0, 0, 0))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        where = self.to_image(event.position())
        if where is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*where)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        where = self.to_image(event.position())
        if where is not None:
            self.hovered.emit(*where)
        super().mouseMoveEvent(event)
