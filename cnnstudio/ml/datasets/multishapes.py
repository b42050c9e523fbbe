"""The built-in "multishapes": a seeded generator of RGB images holding 0 to 6 shapes each (detection).

The shapes are drawn by :mod:`cnnstudio.ml.datasets.shapes` (the same inside-tests, colours and noise);
their centres are placed so that no two boxes overlap, and each box is the tight box of the shape's
drawn pixels, so it is exact by construction.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.ml.datasets.shapes import SHAPES_CLASSES, _hsv_to_rgb, _masks, _tight_boxes

MAX_SHAPES = 6
_CHUNK = 4096


def _place(rng: np.random.Generator, count: int, size: int) -> list[tuple[float, float, float]]:
    """Up to ``count`` (cx, cy, half-extent) whose boxes do not overlap (with a 1-pixel gap)."""
    placed: list[tuple[float, float, float]] = []
    for _ in range(count * 12):
        if len(placed) == count:
            break
        half = rng.uniform(0.06, 0.13) * size  # the shape spans 12..26% of the image
        reach = half * 1.2 + 1  # the shape's half-extent with its gap: the margin to the border too
        cx, cy = rng.uniform(reach, size - reach), rng.uniform(reach, size - reach)
        if all(abs(cx - x) > reach + r * 1.2 + 1 or abs(cy - y) > reach + r * 1.2 + 1 for x, y, r in placed):
            placed.append((cx, cy, half))
    return placed


def generate_multishapes(num_samples: int, image_size: int = 96, seed: int = 0, noise: float = 0.06,
                         max_shapes: int = MAX_SHAPES, masks: bool = False):
    """Images float32 (N, 3, S, S) in [0, 1] and objects float32 (N, max_shapes, 5) rows
    ``class, x, y, w, h`` (normalised, top-left corner), padded with class -1; with ``masks`` also the
    class of every pixel, int64 (N, S, S): 0 for the background, 1 + the shape's class on a shape."""
    rng = np.random.default_rng(seed)
    n, size = int(num_samples), int(image_size)
    counts = rng.integers(0, max_shapes + 1, n)
    owners, kinds, cxs, cys, halves = [], [], [], [], []
    for i in range(n):
        for cx, cy, half in _place(rng, int(counts[i]), size):
            owners.append(i)
            kinds.append(int(rng.integers(len(SHAPES_CLASSES))))
            cxs.append(cx)
            cys.append(cy)
            halves.append(half)
    owner, kind = np.asarray(owners, np.int64), np.asarray(kinds, np.int64)
    cx, cy, half = (np.asarray(v, np.float32) for v in (cxs, cys, halves))
    m = len(owner)
    fg = _hsv_to_rgb(rng.uniform(0, 1, m), rng.uniform(0.45, 1.0, m), rng.uniform(0.75, 1.0, m)).astype(np.float32)
    bg = rng.uniform(0.0, 0.35, (n, 3)).astype(np.float32)
    images = np.broadcast_to(bg[:, :, None, None], (n, 3, size, size)).copy()
    objects = np.full((n, max_shapes, 5), -1.0, dtype=np.float32)
    objects[..., 1:] = 0.0
    first = np.searchsorted(owner, np.arange(n))  # objects are listed image by image
    slot = np.arange(m) - first[owner] if m else np.zeros(0, np.int64)
    pixels = np.zeros((n, size, size), dtype=np.int64) if masks else None
    for s in range(max_shapes):  # the s-th shape of every image at once (they never overlap)
        for start in range(0, n, _CHUNK):
            sel = np.flatnonzero((slot == s) & (owner >= start) & (owner < start + _CHUNK))
            if not len(sel):
                continue
            drawn = _masks(kind[sel], cx[sel], cy[sel], half[sel], size)
            idx = owner[sel]
            images[idx] = np.where(drawn[:, None], fg[sel][:, :, None, None], images[idx])
            if pixels is not None:
                pixels[idx] = np.where(drawn, kind[sel][:, None, None] + 1, pixels[idx])
            objects[idx, s, 0] = kind[sel]
            objects[idx, s, 1:] = _tight_boxes(drawn, size)
    images += rng.standard_normal((n, 1, size, size), dtype=np.float32) * np.float32(noise)
    if pixels is not None:
        return np.clip(images, 0.0, 1.0), objects, pixels
    return np.clip(images, 0.0, 1.0), objects


def main_labels(objects: np.ndarray) -> np.ndarray:
    """Per image the class of its largest object (0 for an image without objects), int64 (N,)."""
    area = np.where(objects[..., 0] >= 0, objects[..., 3] * objects[..., 4], -1.0)
    best = area.argmax(axis=1)
    labels = objects[np.arange(len(objects)), best, 0]
    return np.where(labels >= 0, labels, 0).astype(np.int64)


def iter_load_multishapes(cfg: dict):
    """Generator: progress events, returns the multishapes :class:`DatasetBundle` (task "detection")."""

    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.events import LoadProgress
    from cnnstudio.ml.datasets.split import stratified_split

    n, size, seed = cfg["num_samples"], cfg["image_size"], cfg["seed"]
    yield LoadProgress(0, 2, f"Drawing {n} images of 0 to {MAX_SHAPES} shapes, {size}×{size}")
    images, objects = generate_multishapes(n, size, seed)
    labels = main_labels(objects)
    yield LoadProgress(1, 2, "Splitting")
    train, val = stratified_split(labels, cfg["val_fraction"], seed)
    return DatasetBundle.from_split(images, labels, train, val, targets={"objects": objects},
                                    classes=SHAPES_CLASSES, task="detection", name="multishapes")


SCENE_CLASSES = ["background", *SHAPES_CLASSES]


def iter_load_scenes(cfg: dict):
    """Generator: progress events, returns the "scenes" :class:`DatasetBundle` (task "segmentation"): the
    multishapes images with the class of every pixel (background first)."""

    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.events import LoadProgress
    from cnnstudio.ml.datasets.split import stratified_split

    n, size, seed = cfg["num_samples"], cfg["image_size"], cfg["seed"]
    yield LoadProgress(0, 2, f"Drawing {n} scenes of 0 to {MAX_SHAPES} shapes, {size}×{size}, with their masks")
    images, objects, pixels = generate_multishapes(n, size, seed, masks=True)
    labels = np.where((objects[..., 0] >= 0).any(1), main_labels(objects) + 1, 0)
    yield LoadProgress(1, 2, "Splitting")
    train, val = stratified_split(labels, cfg["val_fraction"], seed)
    return DatasetBundle.from_split(images, labels, train, val, targets={"masks": pixels},
                                    classes=SCENE_CLASSES, task="segmentation", name="scenes")
