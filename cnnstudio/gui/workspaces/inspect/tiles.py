"""Dataset samples as small labelled RGB tiles for the similar-images and mistakes grids."""

from __future__ import annotations

import numpy as np


def sample_tile(x01, size: int) -> np.ndarray:
    """A dataset sample (C, H, W) in [0, 1] as a size x size RGB uint8 tile (pixels enlarged, not blurred)."""
    from cnnstudio.ml.inspect.render import enlarge, to_rgb_uint8
    from cnnstudio.ml.inspect.session import sample_display

    big = enlarge(to_rgb_uint8(sample_display(x01)), size)
    out = np.zeros((size, size, 3), np.uint8)
    h, w = min(size, big.shape[0]), min(size, big.shape[1])
    y0, x0 = (size - h) // 2, (size - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = big[:h, :w]
    return out


def labelled_tile(x01, top: str, bottom: str = "", size: int = 96) -> np.ndarray:
    """:func:`sample_tile` with a caption on top and one at the bottom (white on black)."""
    import cv2

    tile = sample_tile(x01, size)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, size / 200)  # 0.56 on a 112-pixel tile
    for text, top_edge in ((top, True), (bottom, False)):
        if not text:
            continue
        (tw, th), base = cv2.getTextSize(text, font, scale, 1)
        y0 = 0 if top_edge else size - th - base - 3
        cv2.rectangle(tile, (0, y0), (min(size - 1, tw + 4), y0 + th + base + 2), (0, 0, 0), -1)
        cv2.putText(tile, text, (2, y0 + th + 1), font, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return tile
