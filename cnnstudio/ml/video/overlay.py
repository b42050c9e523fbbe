"""Drawing the answer onto the frame with OpenCV: top-k bars, the predicted box, FPS and latencies.

Cheap by design (a few filled rectangles and short texts, drawn in place on the BGR frame): a few tens
of microseconds at 640x480, so drawing never limits the frame rate.
"""

from __future__ import annotations

import numpy as np

FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
PANEL = (32, 32, 32)
TEXT = (240, 240, 240)
BEST = (80, 200, 80)  # BGR green
OTHER = (200, 160, 90)  # BGR blue-grey
BOX = (0, 215, 255)  # BGR amber
ROI = (255, 200, 0)  # BGR cyan


def _scale(frame: np.ndarray) -> float:
    return float(min(1.0, max(0.35, frame.shape[1] / 1280.0)))


def draw_topk(frame: np.ndarray, top: list[tuple[int, str, float]]) -> None:
    """A dark panel in the top-left corner: one row per class, a bar as long as its probability."""
    import cv2

    s = _scale(frame)
    row = int(22 * s / 0.5)
    bar_w = int(120 * s / 0.5)
    name_w = int(70 * s / 0.5)
    width = min(frame.shape[1], name_w + bar_w + int(60 * s / 0.5))
    height = min(frame.shape[0], row * len(top) + 8)
    cv2.rectangle(frame, (0, 0), (width, height), PANEL, -1)
    for i, (_index, name, prob) in enumerate(top):
        y = 4 + i * row
        cv2.putText(frame, name[:10], (4, y + row - 7), FONT, s, TEXT, 1, cv2.LINE_AA)
        length = int(round(bar_w * max(0.0, min(1.0, prob))))
        if length:
            cv2.rectangle(frame, (name_w, y + 3), (name_w + length, y + row - 4), BEST if i == 0 else OTHER, -1)
        cv2.putText(frame, f"{prob * 100:.0f}%", (name_w + bar_w + 4, y + row - 7), FONT, s, TEXT, 1, cv2.LINE_AA)


def draw_box(frame: np.ndarray, box: tuple[int, int, int, int], label: str = "") -> None:
    """The predicted box (x, y, w, h in frame pixels) with its class name."""
    import cv2

    x, y, w, h = box
    thickness = max(2, frame.shape[1] // 320)
    cv2.rectangle(frame, (x, y), (x + w, y + h), BOX, thickness)
    if label:
        cv2.putText(frame, label, (x + 3, max(12, y - 5)), FONT, _scale(frame), BOX, 1, cv2.LINE_AA)


def draw_roi(frame: np.ndarray, roi: tuple[int, int, int, int]) -> None:
    import cv2

    x, y, w, h = roi
    cv2.rectangle(frame, (x, y), (x + w - 1, y + h - 1), ROI, 1)


def draw_stats(frame: np.ndarray, fps: float, capture_ms: float, preprocess_ms: float, inference_ms: float,
               drawing_ms: float) -> None:
    """FPS and the latency breakdown on a dark strip along the bottom edge."""
    import cv2

    s = _scale(frame) * 0.9
    text = (f"{fps:5.1f} fps  capture {capture_ms:.2f}  preprocess {preprocess_ms:.2f}  "
            f"inference {inference_ms:.2f}  drawing {drawing_ms:.2f} ms")
    h = int(20 * s / 0.45)
    top = frame.shape[0] - h
    cv2.rectangle(frame, (0, top), (frame.shape[1], frame.shape[0]), PANEL, -1)
    cv2.putText(frame, text, (4, frame.shape[0] - int(6 * s / 0.45)), FONT, s, TEXT, 1, cv2.LINE_AA)


def draw_message(frame: np.ndarray, text: str) -> None:
    """A one-line notice across the top (no model, a model error)."""
    import cv2

    s = _scale(frame)
    h = int(24 * s / 0.5)
    cv2.rectangle(frame, (0, 0), (frame.shape[1], h), PANEL, -1)
    cv2.putText(frame, text, (4, h - int(7 * s / 0.5)), FONT, s, TEXT, 1, cv2.LINE_AA)
