"""The video area: one pyqtgraph ImageItem updated in place, a movable region-of-interest box and a
banner for messages (no camera, no model)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnstudio.ml.video.pipeline import SQUARE_FRACTION


class VideoView(QWidget):
    """Shows BGR frames; ``roi_changed`` gives the box as fractions (x, y, w, h) of the frame."""

    roi_changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel(self)
        self.banner.setObjectName("LiveBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel#LiveBanner { background: #5a3d00; color: #fff3d6; padding: 8px; font-weight: 600; }"
        )
        self.banner.hide()
        layout.addWidget(self.banner)
        self.graphics = pg.GraphicsLayoutWidget(self)
        self.graphics.setBackground("#202020")
        self.viewbox = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        self.roi = pg.RectROI((0, 0), (10, 10), pen=pg.mkPen("#00c8ff", width=2), movable=True,
                              rotatable=False, resizable=True, removable=False)
        self.roi.addScaleHandle((0, 0), (1, 1))
        self.roi.setZValue(10)
        self.roi.hide()
        self.viewbox.addItem(self.roi)
        self.roi.sigRegionChanged.connect(self._on_roi_moved)
        layout.addWidget(self.graphics, 1)
        self._frame_size: tuple[int, int] | None = None
        self._setting_roi = False
        self.roi_enabled = True
        self.frames_shown = 0

    # --- frames ----------------------------------------------------------------------------------
    def show_frame(self, bgr: np.ndarray) -> None:
        """Update the existing image item (no autoLevels: fast, no flicker)."""
        height, width = bgr.shape[:2]
        self.image_item.setImage(bgr[:, :, ::-1], autoLevels=False, levels=(0, 255))
        self.frames_shown += 1
        if self._frame_size != (width, height):
            self._frame_size = (width, height)
            self.viewbox.setRange(xRange=(0, width), yRange=(0, height), padding=0.0)
            self.reset_roi()  # a new source: back to the default box

    def clear_frame(self) -> None:
        """Show nothing (the source died): no stale last frame, no box over it."""
        self.image_item.clear()
        self._frame_size = None
        self.roi.hide()

    def frame_size(self) -> tuple[int, int] | None:
        return self._frame_size

    # --- banner ----------------------------------------------------------------------------------
    def set_message(self, text: str) -> None:
        if text:
            if self.banner.text() != text:
                self.banner.setText(text)
            self.banner.show()
        else:
            self.banner.hide()

    def message(self) -> str:
        return self.banner.text() if self.banner.isVisibleTo(self) else ""

    # --- region of interest ----------------------------------------------------------------------
    def set_roi_enabled(self, enabled: bool) -> None:
        self.roi_enabled = enabled
        self.roi.setVisible(enabled and self._frame_size is not None)
        self._on_roi_moved()

    def reset_roi(self) -> None:
        """The default box: the centred square on 60 % of the shorter side."""
        if self._frame_size is None:
            return
        width, height = self._frame_size
        side = SQUARE_FRACTION * min(width, height)
        self.set_roi_pixels(((width - side) / 2, (height - side) / 2, side, side))
        self.roi.setVisible(self.roi_enabled)

    def set_roi_pixels(self, box: tuple[float, float, float, float]) -> None:
        self._setting_roi = True
        try:
            self.roi.setPos((box[0], box[1]), update=False)
            self.roi.setSize((box[2], box[3]), update=False)
            self.roi.stateChanged(finish=True)
        finally:
            self._setting_roi = False
        self._on_roi_moved()

    def roi_fractions(self) -> tuple[float, float, float, float] | None:
        if self._frame_size is None or not self.roi_enabled:
            return None
        width, height = self._frame_size
        pos, size = self.roi.pos(), self.roi.size()
        return (pos.x() / width, pos.y() / height, size.x() / width, size.y() / height)

    def _on_roi_moved(self, *_args) -> None:
        fractions = self.roi_fractions()
        self.roi_changed.emit(tuple(fractions) if fractions is not None else ())
