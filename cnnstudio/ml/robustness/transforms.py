"""Natural transformations (Azulay & Weiss 2019, "Why do deep convolutional networks generalize so poorly
to small image transformations?"): accuracy against shift, rotation, scale, noise, blur and brightness.

Each transformation is a deterministic function of a batch of [0, 1] pixel images and one amount (noise
is seeded). :data:`FIXES` names the training augmentation (``data["augment"]``, ml/augment.py) that
matches each one, for the Lab's "retrain with augmentation" step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnstudio.ml.augment import warp


@dataclass(frozen=True)
class Transformation:
    name: str
    title: str
    unit: str
    amounts: tuple[float, ...]  # the default sweep; 0 (or 1 for scale/brightness) = unchanged
    identity: float = 0.0


TRANSFORMATIONS: dict[str, Transformation] = {
    "shift": Transformation("shift", "Shift", "pixels", (-6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6)),
    "rotation": Transformation("rotation", "Rotation", "degrees", (-45, -30, -20, -10, -5, 0, 5, 10, 20, 30, 45)),
    "scale": Transformation("scale", "Scale", "factor", (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5), 1.0),
    "noise": Transformation("noise", "Gaussian noise", "std", (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)),
    "blur": Transformation("blur", "Gaussian blur", "sigma (px)", (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)),
    "brightness": Transformation("brightness", "Brightness", "factor", (0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0), 1.0),
}

#: the augmentation that teaches invariance to each transformation (None: the pipeline has none)
FIXES: dict[str, dict | None] = {
    "shift": {"shift": 0.2},
    "rotation": {"rotation": 40.0},
    "scale": {"scale": 0.4},
    "noise": {"noise": 0.3},
    "blur": None,  # ml/augment.py has no blur; noise and scale do not teach it
    "brightness": {"brightness": 0.8},
}


def _affine(x: torch.Tensor, angle_deg: float = 0.0, zoom: float = 1.0, tx: float = 0.0, ty: float = 0.0):
    n, _, h, w = x.shape
    a = math.radians(angle_deg)
    m = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    aspect = w / h
    m[:, 0, 0] = math.cos(a) * zoom
    m[:, 0, 1] = -math.sin(a) * zoom / aspect
    m[:, 1, 0] = math.sin(a) * zoom * aspect
    m[:, 1, 1] = math.cos(a) * zoom
    m[:, 0, 2] = tx
    m[:, 1, 2] = ty
    return warp(x, m)


def shift_pixels(x: torch.Tensor, dx: int, dy: int = 0) -> torch.Tensor:
    """Move the content ``dx`` pixels right and ``dy`` down; uncovered pixels become 0 (exact, no resampling)."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    dx, dy = int(dx), int(dy)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    out[..., dst_y, dst_x] = x[..., src_y, src_x]
    return out


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    if sigma <= 0:
        return x
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t * t) / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[1]
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(padded, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(out, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def apply(name: str, x: torch.Tensor, amount: float, seed: int = 0) -> torch.Tensor:
    """``x`` (N, C, H, W) in [0, 1] under transformation ``name`` of ``amount``; result in [0, 1]."""
    if name == "shift":  # horizontal shift by whole pixels
        return shift_pixels(x, int(round(amount)), 0)
    if name == "rotation":
        return _affine(x, angle_deg=float(amount)).clamp(0.0, 1.0)
    if name == "scale":
        return _affine(x, zoom=float(amount)).clamp(0.0, 1.0)
    if name == "noise":
        if amount <= 0:
            return x
        gen = torch.Generator(device="cpu").manual_seed(seed)
        return (x + float(amount) * torch.randn(x.shape, generator=gen).to(x.device)).clamp(0.0, 1.0)
    if name == "blur":
        return gaussian_blur(x, float(amount)).clamp(0.0, 1.0)
    if name == "brightness":
        return (x * float(amount)).clamp(0.0, 1.0)
    raise ValueError(f"unknown transformation {name!r}")


def accuracy_curve(model, x: torch.Tensor, y: torch.Tensor, name: str, amounts=None) -> list[tuple[float, float]]:
    """(amount, accuracy) for each amount of transformation ``name`` applied to the whole set."""
    from cnnstudio.ml.robustness.subject import accuracy

    amounts = TRANSFORMATIONS[name].amounts if amounts is None else amounts
    return [(float(a), accuracy(model, apply(name, x, float(a)), y)) for a in amounts]


def shift_sweep(model, image: torch.Tensor, max_shift: int = 4) -> list[dict]:
    """The prediction of one (C, H, W) image shifted by every whole pixel from -max_shift to +max_shift."""
    from cnnstudio.ml.robustness.subject import predict

    shifts = list(range(-int(max_shift), int(max_shift) + 1))
    batch = torch.cat([shift_pixels(image.unsqueeze(0), s, 0) for s in shifts])
    probs = predict(model, batch)
    return [{"shift": s, "predicted": int(p.argmax()), "confidence": float(p.max()), "probabilities": p.numpy()}
            for s, p in zip(shifts, probs)]


def prediction_flips(sweep: list[dict]) -> int:
    """How many one-pixel steps of a sweep change the predicted class."""
    return sum(1 for a, b in zip(sweep, sweep[1:]) if a["predicted"] != b["predicted"])
