"""Printed digits drawn with OpenCV's Hershey fonts: a seeded, offline check of a digits model on
images it never saw (other fonts, sizes, stroke widths, positions, both ink polarities).

Used by ``bench/bench_polarity.py`` (seed 1), the polarity tests, the bundled model's card (seed 0)
and its training set (``scripts/make_bundled_model.py``: seeds from 100, 48x48 and 80x80 pages).
"""

from __future__ import annotations

import numpy as np

FONTS = ("FONT_HERSHEY_SIMPLEX", "FONT_HERSHEY_DUPLEX", "FONT_HERSHEY_COMPLEX", "FONT_HERSHEY_TRIPLEX",
         "FONT_HERSHEY_PLAIN")


def render_digits(per_digit: int = 20, ink: str = "dark", size: int = 64, seed: int = 0,
                  fonts: tuple[str, ...] = FONTS) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: ``per_digit`` images of each digit 0-9, uint8 gray (N, size, size).

    ``ink`` is "dark" (dark ink on light paper, a printed page) or "light" (light on dark, MNIST
    style). Each image draws its digit in one of ``fonts`` (names of OpenCV's font constants; default
    :data:`FONTS`) with a random size (35-70 % of the image's height), stroke width (1 or 2 pixels,
    OpenCV's widest Hershey stroke), position and paper/ink grey levels, plus a little noise.
    """
    import cv2

    if ink not in ("dark", "light"):
        raise ValueError(f"ink must be 'dark' or 'light', not {ink!r}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in range(10):
        for i in range(per_digit):
            font = getattr(cv2, fonts[(digit + i) % len(fonts)])
            height = float(rng.uniform(0.35, 0.7)) * size  # the digit's height in pixels
            thickness = int(rng.integers(1, 3))  # OpenCV draws Hershey strokes at most 2 pixels wide
            (w, h), _ = cv2.getTextSize(str(digit), font, 1.0, 1)
            scale = height / max(h, 1)
            (w, h), base = cv2.getTextSize(str(digit), font, scale, thickness)
            x = int(rng.integers(0, max(1, size - w)))
            y = int(rng.integers(h + 1, max(h + 2, size - base)))
            paper, stroke = int(rng.integers(190, 256)), int(rng.integers(0, 70))
            page = np.full((size, size), paper, np.uint8)
            cv2.putText(page, str(digit), (x, y), font, scale, stroke, thickness, cv2.LINE_AA)
            noisy = page.astype(np.int16) + rng.integers(-6, 7, page.shape)
            page = np.clip(noisy, 0, 255).astype(np.uint8)
            images.append(page if ink == "dark" else 255 - page)
            labels.append(digit)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
