"""A single webcam snapshot, taken with OpenCV on a worker thread (opening a camera can take seconds)."""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import UserError


def grab_snapshot(index: int = 0, warmup_frames: int = 3) -> np.ndarray:
    """One RGB frame from camera ``index``; :class:`UserError` when there is no working camera."""
    import cv2

    capture = cv2.VideoCapture(index)
    try:
        if not capture.isOpened():
            raise UserError("No camera was found. Connect a webcam (and allow access to it), or open a picture.")
        frame = None
        for _ in range(max(1, warmup_frames)):  # the first frames of many webcams are dark
            ok, grabbed = capture.read()
            if ok and grabbed is not None:
                frame = grabbed
        if frame is None:
            raise UserError("The camera opened but sent no picture; is another program using it?")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


__all__ = ["grab_snapshot"]
