"""Kernel presets (the lecture's "special kernels" and a few classics) and kernel checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import UserError

MAX_KERNEL_SIZE = 11


@dataclass(frozen=True)
class KernelPreset:
    name: str
    title: str
    values: np.ndarray
    help: str


def gaussian_kernel(size: int = 5, sigma: float | None = None) -> np.ndarray:
    """A normalised ``size``x``size`` Gaussian (sigma defaults to ``0.3·((size − 1)·0.5 − 1) + 0.8`` as OpenCV)."""
    if size < 1 or size > MAX_KERNEL_SIZE:
        raise UserError(f"A Gaussian kernel must be 1 to {MAX_KERNEL_SIZE} cells wide, not {size}.")
    if sigma is None:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    if sigma <= 0:
        raise UserError(f"The Gaussian's sigma must be positive, not {sigma}.")
    axis = np.arange(size) - (size - 1) / 2
    g = np.exp(-(axis**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def _presets() -> dict[str, KernelPreset]:
    items = [
        KernelPreset("identity", "Identity", np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
                     "Copies the input: only the centre pixel counts."),
        KernelPreset("edge", "Edge detection", np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),
                     "8 × the centre minus its 8 neighbours: 0 on flat areas, large where the brightness changes."),
        KernelPreset("sharpen", "Sharpen", np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
                     "The pixel plus its difference from its 4 neighbours: edges get crisper."),
        KernelPreset("box_blur", "Box blur (1/9)", np.full((3, 3), 1 / 9),
                     "The mean of the 3x3 neighbourhood."),
        KernelPreset("gaussian_blur", "Gaussian blur", np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float) / 16,
                     "A weighted mean: near pixels count more than far ones (1/16 · [1 2 1; 2 4 2; 1 2 1])."),
        KernelPreset("gaussian_blur_5", "Gaussian blur 5x5", gaussian_kernel(5, 1.0),
                     "A wider Gaussian blur (sigma 1)."),
        KernelPreset("sobel_x", "Sobel x", np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
                     "Horizontal change: positive where it gets brighter to the right (vertical edges)."),
        KernelPreset("sobel_y", "Sobel y", np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
                     "Vertical change: positive where it gets brighter downwards (horizontal edges)."),
        KernelPreset("laplacian", "Laplacian", np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
                     "The 4 neighbours minus 4 × the centre: responds to edges in every direction."),
        KernelPreset("emboss", "Emboss", np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
                     "A diagonal difference plus the pixel: looks like a relief lit from the top left."),
    ]
    return {p.name: p for p in items}


PRESETS: dict[str, KernelPreset] = _presets()
DEFAULT_PRESET = "edge"


def get_preset(name: str) -> KernelPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"Unknown kernel preset {name!r}; choose one of {', '.join(PRESETS)}.") from None


def check_kernel(values) -> np.ndarray:
    """A float64 2-D kernel of 1x1 to 11x11 finite numbers, or a :class:`UserError` saying what is wrong."""
    try:
        k = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError("The kernel must be a rectangular grid of numbers.") from None
    if k.ndim != 2:
        raise UserError(f"The kernel must be a 2-D grid, not {k.ndim}-D.")
    h, w = k.shape
    if not (1 <= h <= MAX_KERNEL_SIZE and 1 <= w <= MAX_KERNEL_SIZE):
        raise UserError(f"The kernel must be 1x1 to {MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE} cells, not {h}x{w}.")
    if not np.all(np.isfinite(k)):
        raise UserError("The kernel contains values that are not finite numbers.")
    return k


def normalise_kernel(values) -> tuple[np.ndarray, str]:
    """Scale the kernel so its weights sum to 1 (keeps the image's brightness); returns (kernel, note).

    A kernel that sums to 0 (edge detectors) cannot be scaled that way; it is then scaled so its positive
    weights sum to 1, and the note says so.
    """
    k = check_kernel(values)
    total = float(k.sum())
    if abs(total) > 1e-12:
        return k / total, f"Divided by the sum of the weights ({_fmt(total)}); they now sum to 1."
    positive = float(k[k > 0].sum())
    if positive <= 0:
        return k.copy(), "All weights are zero; nothing to normalise."
    return k / positive, (
        f"The weights sum to 0, so they were divided by the sum of the positive weights ({_fmt(positive)})."
    )


def _fmt(value: float) -> str:
    return f"{value:g}"


__all__ = [
    "DEFAULT_PRESET", "MAX_KERNEL_SIZE", "PRESETS", "KernelPreset", "check_kernel", "gaussian_kernel",
    "get_preset", "normalise_kernel",
]
