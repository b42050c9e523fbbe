"""The built-in "shapes": a seeded generator of RGB images each holding one shape and its box.

Fully vectorised over the batch with numpy: every shape is an inside-test on a coordinate grid, so
2,000 images of 64×64 take a fraction of a second. The box is the tight box of the shape's drawn pixels,
so it is exact by construction.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.data_config import SHAPE_CLASSES

SHAPES_CLASSES = list(SHAPE_CLASSES)
_CHUNK = 1024


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB, all in [0, 1]; returns (N, 3)."""
    i = np.floor(h * 6.0).astype(np.int64) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = np.stack([
        np.stack([v, t, p], 1), np.stack([q, v, p], 1), np.stack([p, v, t], 1),
        np.stack([p, q, v], 1), np.stack([t, p, v], 1), np.stack([v, p, q], 1),
    ], 0)
    return table[i, np.arange(len(h))]


def _star_radius(theta: np.ndarray, outer: float = 1.0, inner: float = 0.45) -> np.ndarray:
    """Boundary radius (for outer radius 1) of a five-pointed star with a point straight up."""
    sector = np.pi / 5.0  # 36°
    phi = np.mod(theta, 2 * sector)
    phi = np.where(phi > sector, 2 * sector - phi, phi)
    p1 = np.array([outer, 0.0])
    p2 = np.array([inner * np.cos(sector), inner * np.sin(sector)])
    d = p2 - p1
    num = p1[0] * d[1] - p1[1] * d[0]
    den = np.cos(phi) * d[1] - np.sin(phi) * d[0]
    return num / den


def _shape_mask(kind: int, dx: np.ndarray, dy: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """Inside-test of one shape kind; ``dx, dy`` pixel offsets from the centre, ``rr`` half-extents."""
    if kind == 0:  # circle
        return dx * dx + dy * dy <= rr * rr
    if kind == 1:  # square, side 1.64 r so its area is close to the circle's
        half = 0.82 * rr
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if kind == 2:  # triangle, apex up, inscribed in a circle of radius R, centred vertically
        big_r = 1.12 * rr
        ty = dy - 0.25 * big_r
        s3 = np.sqrt(3.0)
        return (ty <= 0.5 * big_r) & (s3 * dx - ty <= big_r) & (-s3 * dx - ty <= big_r)
    if kind == 3:  # five-pointed star, a point straight up
        theta = np.arctan2(dx, -dy)
        return np.sqrt(dx * dx + dy * dy) <= 1.15 * rr * _star_radius(theta)
    # cross (plus sign) with arms 0.72 r wide
    arm = 0.36 * rr
    return ((np.abs(dx) <= rr) & (np.abs(dy) <= arm)) | ((np.abs(dy) <= rr) & (np.abs(dx) <= arm))


def _masks(kind: np.ndarray, cx: np.ndarray, cy: np.ndarray, r: np.ndarray, size: int) -> np.ndarray:
    """Boolean (N, size, size) masks: shape ``kind`` of half-extent ``r`` centred on (cx, cy)."""
    coords = np.arange(size, dtype=np.float32) + 0.5
    out = np.zeros((len(kind), size, size), dtype=bool)
    for k in np.unique(kind):
        sel = np.flatnonzero(kind == k)
        dx = coords[None, None, :] - cx[sel, None, None]
        dy = coords[None, :, None] - cy[sel, None, None]
        out[sel] = _shape_mask(int(k), dx, dy, r[sel, None, None])
    return out


def _tight_boxes(masks: np.ndarray, size: int) -> np.ndarray:
    """(N, 4) float32 boxes x, y, w, h normalised: the tight box of each mask's pixels."""
    cols = masks.any(axis=1)
    rows = masks.any(axis=2)
    x0 = cols.argmax(axis=1)
    x1 = size - cols[:, ::-1].argmax(axis=1)
    y0 = rows.argmax(axis=1)
    y1 = size - rows[:, ::-1].argmax(axis=1)
    return (np.stack([x0, y0, x1 - x0, y1 - y0], axis=1) / float(size)).astype(np.float32)


def generate_shapes(num_samples: int, image_size: int = 64, seed: int = 0,
                    noise: float = 0.06) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``num_samples`` images float32 (N, 3, S, S) in [0, 1], labels int64 (N,) and boxes float32 (N, 4).

    Classes are balanced (a seeded shuffle of a repeated class list). Each shape's extent is 24–56% of
    the image and its colour is bright and saturated on a dark, noisy background, so shapes are
    clearly distinguishable.
    """
    rng = np.random.default_rng(seed)
    n, size = int(num_samples), int(image_size)
    labels = np.resize(np.arange(len(SHAPES_CLASSES)), n)
    labels = labels[rng.permutation(n)].astype(np.int64)
    half = rng.uniform(0.12, 0.28, n) * size  # half-extent: the shape spans 24..56% of the image
    margin = half * 1.2 + 1
    cx = rng.uniform(margin, size - margin)
    cy = rng.uniform(margin, size - margin)
    fg = _hsv_to_rgb(rng.uniform(0, 1, n), rng.uniform(0.45, 1.0, n), rng.uniform(0.75, 1.0, n))
    bg = rng.uniform(0.0, 0.35, (n, 3))
    noise_field = rng.standard_normal((n, 1, size, size), dtype=np.float32)
    noise_field *= np.float32(noise)
    images = np.empty((n, 3, size, size), dtype=np.float32)
    boxes = np.empty((n, 4), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        masks = _masks(labels[sl], cx[sl].astype(np.float32), cy[sl].astype(np.float32),
                       half[sl].astype(np.float32), size)
        boxes[sl] = _tight_boxes(masks, size)
        m = masks[:, None, :, :]
        img = np.where(m, fg[sl, :, None, None], bg[sl, :, None, None]).astype(np.float32)
        img += noise_field[sl]
        images[sl] = np.clip(img, 0.0, 1.0)
    return images, labels, boxes


def iter_load_shapes(cfg: dict):
    """Generator: progress events, returns the shapes :class:`DatasetBundle` (task "localization")."""

    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.events import LoadProgress
    from cnnstudio.ml.datasets.split import stratified_split

    n, size, seed = cfg["num_samples"], cfg["image_size"], cfg["seed"]
    yield LoadProgress(0, 2, f"Drawing {n} shapes of {size}×{size}")
    images, labels, boxes = generate_shapes(n, size, seed)
    yield LoadProgress(1, 2, "Splitting")
    train, val = stratified_split(labels, cfg["val_fraction"], seed)
    return DatasetBundle.from_split(images, labels, train, val, targets={"boxes": boxes},
                                    classes=SHAPES_CLASSES, task="localization", name="shapes")
