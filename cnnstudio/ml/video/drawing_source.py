"""A frame source fed by the GUI: the picture on a drawing pad, replayed as a steady stream of frames.

The GUI thread calls :meth:`DrawingSource.set_image` whenever the drawing changes; the capture thread
reads the newest picture, so the live pipeline (ROI, preprocessing, model, overlays) runs on what is drawn
exactly as on a camera frame. No Qt.
"""

from __future__ import annotations

import threading

import numpy as np

from cnnstudio.ml.video.sources import FrameSource


class DrawingSource(FrameSource):
    """The newest picture handed in by :meth:`set_image` (uint8 gray or RGB), as BGR frames at ``fps``."""

    def __init__(self, image: np.ndarray, fps: float = 30.0, name: str = "drawing pad"):
        super().__init__()
        self._lock = threading.Lock()
        self._fps = float(fps)
        self._name = name
        self._frame = self._to_bgr(image)
        self.updates = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def fps(self) -> float:
        return self._fps

    @staticmethod
    def _to_bgr(image: np.ndarray) -> np.ndarray:
        img = np.asarray(image, dtype=np.uint8)
        if img.ndim == 2:
            return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
        return np.ascontiguousarray(img[:, :, 2::-1])  # RGB -> BGR

    def set_image(self, image: np.ndarray) -> None:
        frame = self._to_bgr(image)
        with self._lock:
            self._frame = frame
            self.updates += 1

    def open(self) -> None:
        self.is_open = True

    def read(self) -> np.ndarray | None:
        if not self.is_open:
            return None
        with self._lock:
            return self._frame.copy()  # the pipeline draws its overlays on the frame it gets
