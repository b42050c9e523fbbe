"""Dataset and augmentation speed, each against a baseline measured in the same run.

1. The shapes generator (vectorised numpy) vs drawing the same kind of images one by one with OpenCV.
   Target: 2,000 images of 64×64 in under 2 s.
2. BatchAugment (per-image random values, one grid_sample per batch) vs torchvision v2 called per
   image on the same batch, and vs one v2 call on the whole batch (same values for every image).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch


def timed(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def draw_one_by_one(n: int, size: int, seed: int) -> np.ndarray:
    """Baseline: a plain per-image loop with cv2 drawing calls (circle / rectangle / polygon)."""
    import cv2

    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        img = rng.integers(0, 90, (size, size, 3), dtype=np.uint8)
        r = int(rng.uniform(0.12, 0.28) * size)
        cx, cy = (int(v) for v in rng.uniform(r + 1, size - r - 1, 2))
        colour = tuple(int(v) for v in rng.integers(150, 256, 3))
        kind = i % 3
        if kind == 0:
            cv2.circle(img, (cx, cy), r, colour, -1)
        elif kind == 1:
            cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), colour, -1)
        else:
            pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
            cv2.fillPoly(img, [pts], colour)
        out[i] = img
    return out


def main() -> int:
    from cnnstudio.ml.augment import build_augment, v2_transform
    from cnnstudio.ml.datasets.shapes import generate_shapes

    torch.set_num_threads(2)
    n, size = 2000, 64
    t_gen = timed(lambda: generate_shapes(n, size, 0), 3)
    t_cv2 = timed(lambda: draw_one_by_one(n, size, 0), 3)
    print(f"shapes: {n} images {size}x{size}: {t_gen:.3f} s (target < 2 s); "
          f"per-image cv2 loop {t_cv2:.3f} s; ratio generator/loop = {t_gen / t_cv2:.2f}")

    settings = {"shift": 0.1, "rotation": 15, "scale": 0.1, "flip": 0.5, "noise": 0.05, "brightness": 0.2}
    for name, batch in (("digits 1x28x28", torch.rand(128, 1, 28, 28)), ("shapes 3x64x64", torch.rand(128, 3, 64, 64))):
        ours = build_augment(settings)
        v2 = v2_transform(settings)
        t_ours = timed(lambda b=batch, f=ours: f(b), 30)
        t_loop = timed(lambda b=batch, f=v2: torch.stack([f(img) for img in b]), 5)
        t_same = timed(lambda b=batch, f=v2: f(b), 30)
        print(f"augment {name}, batch 128: BatchAugment {t_ours * 1e3:.1f} ms; v2 per image {t_loop * 1e3:.1f} ms "
              f"(ratio {t_ours / t_loop:.2f}); one v2 call, same values for all {t_same * 1e3:.1f} ms "
              f"(ratio {t_ours / t_same:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
