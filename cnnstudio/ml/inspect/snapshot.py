"""One still frame from a webcam, as the input image for Inspect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError


def camera_snapshot(index: int = 0, capture_factory: Callable[[int], Any] | None = None, warmup: int = 5) -> np.ndarray:
    """An RGB uint8 frame from camera ``index``. Cameras adjust exposure over their first frames, so a few
    are read and dropped first. A missing or silent camera is a UserError."""
    from cnnstudio.ml.video.sources import CameraSource

    frame = None
    with CameraSource(index, capture_factory) as camera:
        for _ in range(max(1, warmup + 1)):
            got = camera.read()
            if got is not None:
                frame = got
    if frame is None:
        raise UserError(f"Camera {index} opened but sent no picture.")
    return np.ascontiguousarray(frame[:, :, ::-1])  # BGR -> RGB
