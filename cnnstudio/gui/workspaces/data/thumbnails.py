"""Drawing samples: numpy images to QImage/QPixmap with the box drawn on top."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

BOX_COLOUR = QColor("#ffd400")


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (H, W, 3) RGB -> a QImage that owns its pixels."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def thumbnail(image: np.ndarray, size: int, box: np.ndarray | None = None) -> QPixmap:
    """A ``size``×``size`` pixmap of the image (pixel-sharp when enlarged) with its box outlined."""
    h, w = image.shape[:2]
    smooth = h > size or w > size
    mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
    scaled = to_qimage(image).scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
    pixmap = QPixmap.fromImage(scaled)
    if box is not None:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(BOX_COLOUR, max(1.5, size / 48))
        painter.setPen(pen)
        for row in np.asarray(box, dtype=np.float32).reshape(-1, 4):  # one box, or one per object (NaN: none)
            if np.isfinite(row).all():
                x, y, bw, bh = (float(v) * size for v in row)
                painter.drawRect(QRectF(x, y, bw, bh).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()
    return pixmap
