"""Dataset bias: the built-in "coloured digits", where the background colour is a spurious cue.

In the training set (and its validation split) the background of a digit has its class's colour with
probability ``correlation``; in the test set the colour is drawn at random, independent of the class.
A network that learnt the colour instead of the strokes loses accuracy on the test set, and its
gradient saliency sits on the background. Two fixes: the hue augmentation of the existing pipeline
(the ten colours share one luma and one chroma radius, so a random hue rotation turns any of them into
any other while the white ink stays white), or re-balancing (each class's colours weighted equally).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

_YIQ_TO_RGB = np.linalg.inv(np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]))
BIAS_FIXES = {"none": "No fix", "augment": "Hue augmentation", "rebalance": "Re-balance colours per class"}
BIAS_SPEC = "lenet5"
BIAS_TRAINING = {"epochs": 6, "seed": 0, "batch_size": 32, "lr": 0.002}


def cue_colours(count: int = 10, luma: float = 0.4, chroma: float = 0.2) -> np.ndarray:
    """``count`` RGB colours (count, 3) of one luma, evenly spaced around the YIQ chroma circle."""
    angles = np.arange(count) * (2 * math.pi / count)
    yiq = np.stack([np.full(count, luma), chroma * np.cos(angles), chroma * np.sin(angles)], 1)
    return (yiq @ _YIQ_TO_RGB.T).clip(0.0, 1.0).astype(np.float32)


def colourise(ink: torch.Tensor, colour_index: np.ndarray, colours: np.ndarray) -> torch.Tensor:
    """Gray light-on-dark digits (N, 1, H, W) as RGB: white ink on the given background colours."""
    bg = torch.from_numpy(colours[colour_index]).view(-1, 3, 1, 1)
    return (bg * (1.0 - ink) + ink).clamp(0.0, 1.0).contiguous()


@dataclass
class BiasedData:
    bundle: object  # DatasetBundle: biased train + biased validation (what the trainer sees)
    test_x: torch.Tensor  # the validation digits with random colours (the cue broken)
    test_y: torch.Tensor
    train_colour: np.ndarray  # background colour index of each training image
    colours: np.ndarray
    correlation: float
    ink_mask: torch.Tensor  # (N_test, H, W) bool: the digit's own pixels in the test images


def biased_digits(correlation: float = 0.95, seed: int = 0) -> BiasedData:
    """The coloured digits: class-coloured backgrounds with probability ``correlation`` (train, val)."""
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.datasets.bundle import DatasetBundle

    base = load_dataset({"source": "digits", "val_fraction": 0.2, "seed": seed})
    colours = cue_colours(len(base.classes))
    rng = np.random.default_rng(seed + 17)
    k = len(colours)

    def biased_index(y: torch.Tensor) -> np.ndarray:
        y = y.numpy()
        other = (y + rng.integers(1, k, len(y))) % k  # a colour of another class
        return np.where(rng.random(len(y)) < correlation, y, other)

    train_c, val_c = biased_index(base.train_y), biased_index(base.val_y)
    test_c = rng.integers(0, k, len(base.val_y))
    bundle = DatasetBundle(
        train_x=colourise(base.train_x, train_c, colours), train_y=base.train_y,
        val_x=colourise(base.val_x, val_c, colours), val_y=base.val_y,
        classes=list(base.classes), name=f"coloured digits ({correlation:.0%} cue)",
    )
    return BiasedData(bundle, colourise(base.val_x, test_c, colours), base.val_y.clone(), train_c, colours,
                      float(correlation), base.val_x[:, 0] > 0.05)


def rebalanced(data: BiasedData, seed: int = 0):
    """The training set re-sampled so that within each class every background colour is equally common."""
    from dataclasses import replace

    rng = np.random.default_rng(seed + 29)
    y = data.bundle.train_y.numpy()
    keep = []
    for c in np.unique(y):
        groups = [np.flatnonzero((y == c) & (data.train_colour == k)) for k in range(len(data.colours))]
        groups = [g for g in groups if len(g)]
        size = max(len(g) for g in groups) if groups else 0
        per_group = max(1, size // len(groups))  # keep the class's size about the same
        for g in groups:
            keep.extend(rng.choice(g, per_group, replace=len(g) < per_group).tolist())
    keep = np.array(rng.permutation(keep), dtype=np.int64)
    b = data.bundle
    return replace(b, train_x=b.train_x[keep].contiguous(), train_y=b.train_y[keep])


def saliency_on_cue(model, x: torch.Tensor, ink: torch.Tensor, count: int = 40) -> float:
    """Share of the gradient saliency that falls on the background (not the digit's ink), over ``count``
    test images; the background covers about 80% of each image."""
    from cnnstudio.ml.inspect.saliency import gradient_saliency

    shares = []
    for i in range(min(count, int(x.shape[0]))):
        heat = gradient_saliency(model, x[i:i + 1]).heat
        total = float(heat.sum())
        if total > 0:
            shares.append(float(heat[~ink[i].numpy()].sum()) / total)
    return float(np.mean(shares)) if shares else float("nan")


@dataclass
class BiasResult:
    fix: str
    val_accuracy: float  # biased validation (cue present)
    test_accuracy: float  # cue broken
    background_saliency: float
    background_area: float
    subject: object  # the trained Subject

    @property
    def drop(self) -> float:
        return self.val_accuracy - self.test_accuracy


def train_bias(data: BiasedData, fix: str = "none", training: dict | None = None, control=None
               ) -> Generator[object, None, BiasResult]:
    """Train on the coloured digits (with ``fix``: none, augment or rebalance) and measure the cue's pull."""
    from cnnstudio.core.errors import UserError
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.robustness.subject import Subject, accuracy, pixel_model, train_fresh
    from cnnstudio.ml.trainer import TrainConfig

    if fix not in BIAS_FIXES:
        raise UserError(f"Unknown fix {fix!r}: choose {', '.join(BIAS_FIXES)}.")
    spec = load_spec(BIAS_SPEC)
    spec["input"] = {**spec["input"], "channels": 3}
    spec["classes"] = list(data.bundle.classes)
    spec["preprocess"] = {"mean": [0.5], "std": [0.5]}
    spec["name"] = f"LeNet-5 RGB ({BIAS_FIXES[fix].lower()})"
    bundle = rebalanced(data) if fix == "rebalance" else data.bundle
    data_config = {"source": "coloured-digits", "augment": {"hue": 0.5} if fix == "augment" else {}}
    config = TrainConfig.from_dict({**BIAS_TRAINING, **(training or {})})
    net = yield from train_fresh(spec, bundle, config, control, data_config)
    model = pixel_model(spec, net.cpu())
    subject = Subject(model, spec, bundle, data_config, config.to_dict(), spec["name"])
    return BiasResult(fix, accuracy(model, data.bundle.val_x, data.bundle.val_y),
                      accuracy(model, data.test_x, data.test_y),
                      saliency_on_cue(model, data.test_x, data.ink_mask),
                      float((~data.ink_mask).float().mean()), subject)
