"""The bundled backbone's source task: printed capital letters A-Z drawn with OpenCV's Hershey fonts.

Seeded and generated on the fly (no files): each 28x28 image holds one letter in a random font, stroke
width, size, slant and position, light ink on dark like the built-in digits. The letters share
strokes, curves and corners with handwritten digits but no class with them, so a network pretrained
here has learnt general stroke features, and the digits are a *different* target task.
"""

from __future__ import annotations

import numpy as np

LETTER_CLASSES = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
LETTERS_SIZE = 28
_FONTS = (0, 2, 3, 4, 6, 7)  # HERSHEY_SIMPLEX, DUPLEX, COMPLEX, TRIPLEX, SCRIPT_COMPLEX... (no tiny PLAIN)
_WORK = 56  # drawn at twice the size, then shrunk with area averaging (anti-aliased strokes)


def generate_letters(num_samples: int, seed: int = 0, size: int = LETTERS_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """``num_samples`` images float32 (N, 1, size, size) in [0, 1] and balanced int64 labels 0..25."""
    import cv2

    rng = np.random.default_rng(seed)
    n = int(num_samples)
    labels = np.resize(np.arange(len(LETTER_CLASSES)), n)[rng.permutation(n)].astype(np.int64)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    canvas = np.zeros((_WORK, _WORK), dtype=np.uint8)
    for i in range(n):
        canvas[:] = 0
        font = int(rng.choice(_FONTS))
        thickness = int(rng.integers(2, 7))
        scale = float(rng.uniform(1.1, 1.7))
        text = LETTER_CLASSES[labels[i]]
        (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
        x = (_WORK - w) / 2 + rng.uniform(-4, 4)
        y = (_WORK + h) / 2 + rng.uniform(-4, 4)
        cv2.putText(canvas, text, (int(x), int(y)), font, scale, 255, thickness, cv2.LINE_AA)
        angle, shear = rng.uniform(-15, 15), rng.uniform(-0.25, 0.25)
        m = cv2.getRotationMatrix2D((_WORK / 2, _WORK / 2), angle, float(rng.uniform(0.85, 1.1)))
        m[0, 1] += shear
        m[0, 2] -= shear * _WORK / 2
        warped = cv2.warpAffine(canvas, m, (_WORK, _WORK), flags=cv2.INTER_LINEAR, borderValue=0)
        small = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA)
        images[i, 0] = small.astype(np.float32) / 255.0
    return images, labels


def letters_bundle(num_samples: int = 5200, seed: int = 0, val_fraction: float = 0.15):
    """The letters as a :class:`DatasetBundle` (seeded stratified split)."""
    import torch

    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.split import stratified_split

    images, labels = generate_letters(num_samples, seed)
    train, val = stratified_split(labels, val_fraction, seed)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    return DatasetBundle(train_x=x[train].contiguous(), train_y=y[train], val_x=x[val].contiguous(),
                         val_y=y[val], classes=list(LETTER_CLASSES), name="letters")
