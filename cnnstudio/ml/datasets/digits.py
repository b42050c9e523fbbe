"""The built-in "digits": scikit-learn's 1,797 real 8×8 handwritten digits, resized to 28×28."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

DIGIT_CLASSES = [str(i) for i in range(10)]
DIGITS_SIZE = 28


def load_digit_arrays(size: int = DIGITS_SIZE) -> tuple[torch.Tensor, np.ndarray]:
    """All 1,797 digits as float32 (N, 1, size, size) in [0, 1] (light ink on dark) and their labels.

    sklearn stores ink intensity 0..16 (0 = paper), so the images are already light on dark, like MNIST.
    """
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = torch.from_numpy(raw.images.astype(np.float32) / 16.0).unsqueeze(1)
    images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False).clamp_(0.0, 1.0)
    return images.contiguous(), raw.target.astype(np.int64)


def iter_load_digits(cfg: dict):
    """Generator: progress events, returns the digits :class:`DatasetBundle` (seeded stratified split)."""
    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.events import LoadProgress
    from cnnstudio.ml.datasets.split import stratified_split

    yield LoadProgress(0, 2, "Loading the built-in digits")
    images, labels = load_digit_arrays()
    yield LoadProgress(1, 2, "Splitting")
    train, val = stratified_split(labels, cfg["val_fraction"], cfg["seed"])
    return DatasetBundle.from_split(images, labels, train, val, classes=DIGIT_CLASSES, task="classification",
                                    name="digits", facts=_digits_facts())


def _digits_facts():
    from cnnstudio.ml.datasets.bundle import ImageFacts

    # light ink on dark; each digit was size-normalised into its 8x8 box, which its strokes touch
    return ImageFacts(ink="light", cropped_to_content=True, content_margin=0.0)
