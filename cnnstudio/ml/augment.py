"""Data augmentation: shift, flip, rotation, scale, noise and colour jitter, box-aware for localization.

Two implementations of the same settings (the project's ``data["augment"]`` dict):

- :func:`build_augment` returns a :class:`BatchAugment` for training. It works on whole batches of
  tensors already on the device (CPU, CUDA, MPS) and draws *different* random parameters for every
  image in one pass (one ``affine_grid``/``grid_sample`` for all geometry). torchvision's v2 transforms
  draw one set of parameters per call, so on a batch every image would get the same flip and rotation.
- :func:`v2_transform` builds the equivalent ``torchvision.transforms.v2`` pipeline for one image at a
  time (with ``tv_tensors.BoundingBoxes``), for per-image data pipelines and as a reference.

Boxes are ``x, y, w, h`` normalised (top-left corner). After a rotation a box becomes the enclosing
box of its rotated corners, clipped to the image (the rule torchvision's v2 follows too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnstudio.core.data_config import normalize_augment
from cnnstudio.core.tasks import get_task

# RGB <-> YIQ, for a cheap per-image hue rotation (a rotation of the I/Q chroma plane)
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


@dataclass(frozen=True)
class AugmentSettings:
    shift: float = 0.0
    rotation: float = 0.0
    scale: float = 0.0
    flip: float = 0.0
    vflip: float = 0.0
    noise: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0

    @classmethod
    def from_dict(cls, augment: dict | None) -> AugmentSettings:
        return cls(**normalize_augment(augment or {}))

    @property
    def geometric(self) -> bool:
        return any(v > 0 for v in (self.shift, self.rotation, self.scale, self.flip, self.vflip))

    @property
    def photometric(self) -> bool:
        return any(v > 0 for v in (self.noise, self.brightness, self.contrast, self.saturation, self.hue))

    @property
    def active(self) -> bool:
        return self.geometric or self.photometric


class BatchAugment:
    """Random augmentation of a batch (N, C, H, W) in [0, 1], per image, on the batch's device.

    ``augment(images, boxes=None, generator=None) -> (images, boxes)``; ``boxes`` (N, 4) are moved with
    the image content. With nothing enabled the inputs come back unchanged (no copy).
    """

    def __init__(self, settings: AugmentSettings, task: str = "classification"):
        self.settings = settings
        self.task = task

    @property
    def active(self) -> bool:
        return self.settings.active

    def __call__(self, images: torch.Tensor, boxes: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.settings.active or images.shape[0] == 0:
            return images, boxes
        s = self.settings
        if s.geometric:
            images, boxes = self._geometry(images, boxes, generator)
        if s.photometric:
            images = self._colour(images, generator)
        return images, boxes

    # --- geometry --------------------------------------------------------------------------------
    def _uniform(self, n: int, low: float, high: float, like: torch.Tensor, generator) -> torch.Tensor:
        r = torch.rand(n, generator=generator, device=generator.device if generator else like.device)
        return (low + (high - low) * r).to(device=like.device, dtype=torch.float32)

    def forward_matrices(self, images: torch.Tensor, generator=None) -> torch.Tensor:
        """(N, 2, 3) random maps from input to output positions, in normalised [-1, 1] coordinates."""
        s = self.settings
        n, _, h, w = images.shape
        u = lambda lo, hi: self._uniform(n, lo, hi, images, generator)  # noqa: E731
        angle = u(-s.rotation, s.rotation) * (math.pi / 180.0)
        zoom = u(1.0 - s.scale, 1.0 + s.scale)
        flip_x = torch.where(u(0, 1) < s.flip, -1.0, 1.0)
        flip_y = torch.where(u(0, 1) < s.vflip, -1.0, 1.0)
        tx, ty = u(-s.shift, s.shift) * 2.0, u(-s.shift, s.shift) * 2.0  # fraction of size -> [-1, 1] units
        cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
        aspect = w / h  # rotate in pixel space: normalised x is stretched by W/2, y by H/2
        m = torch.zeros(n, 2, 3, device=images.device)
        m[:, 0, 0] = cos * flip_x
        m[:, 0, 1] = -sin / aspect * flip_y
        m[:, 1, 0] = sin * aspect * flip_x
        m[:, 1, 1] = cos * flip_y
        m[:, 0, 2] = tx
        m[:, 1, 2] = ty
        return m

    def _geometry(self, images, boxes, generator):
        forward = self.forward_matrices(images, generator)
        return warp(images, forward), (None if boxes is None else transform_boxes(boxes, forward))

    # --- colour and noise ------------------------------------------------------------------------
    def _colour(self, images: torch.Tensor, generator) -> torch.Tensor:
        s = self.settings
        n, c = images.shape[:2]
        u = lambda lo, hi: self._uniform(n, lo, hi, images, generator).view(n, 1, 1, 1)  # noqa: E731
        x = images
        if s.brightness > 0:
            x = x * u(1.0 - s.brightness, 1.0 + s.brightness)
        if s.contrast > 0:
            mean = _gray(x).mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * u(1.0 - s.contrast, 1.0 + s.contrast) + mean
        if c == 3 and s.saturation > 0:
            gray = _gray(x)
            x = (x - gray) * u(1.0 - s.saturation, 1.0 + s.saturation) + gray
        if c == 3 and s.hue > 0:
            theta = self._uniform(n, -s.hue, s.hue, images, generator) * (2 * math.pi)
            rot = torch.zeros(n, 3, 3, device=x.device)
            rot[:, 0, 0] = 1.0
            rot[:, 1, 1], rot[:, 1, 2] = torch.cos(theta), -torch.sin(theta)
            rot[:, 2, 1], rot[:, 2, 2] = torch.sin(theta), torch.cos(theta)
            mat = _YIQ_TO_RGB.to(x.device) @ rot @ _RGB_TO_YIQ.to(x.device)  # (n, 3, 3)
            x = torch.einsum("nij,njhw->nihw", mat, x)
        if s.noise > 0:
            noise = torch.randn(x.shape, generator=generator,
                                device=generator.device if generator else x.device).to(x.device)
            x = x + noise * s.noise
        return x.clamp(0.0, 1.0)


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        return x
    w = x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def warp(images: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Move image content by the (N, 2, 3) normalised ``forward`` maps; uncovered areas become 0."""
    n = forward.shape[0]
    full = torch.zeros(n, 3, 3, device=forward.device, dtype=forward.dtype)
    full[:, :2] = forward
    full[:, 2, 2] = 1.0
    inverse = torch.linalg.inv(full)[:, :2]  # grid_sample asks, for each output pixel, where to read
    grid = F.affine_grid(inverse.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def transform_boxes(boxes: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """Boxes (N, 4) x, y, w, h in [0, 1] after the ``forward`` maps: enclosing box of the moved corners."""
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    corners = torch.stack([torch.stack([x0, y0], 1), torch.stack([x1, y0], 1),
                           torch.stack([x0, y1], 1), torch.stack([x1, y1], 1)], 1)  # (N, 4, 2)
    corners = corners * 2.0 - 1.0
    moved = corners @ forward[:, :, :2].transpose(1, 2) + forward[:, None, :, 2]
    moved = ((moved + 1.0) / 2.0).clamp(0.0, 1.0)
    lo, hi = moved.min(dim=1).values, moved.max(dim=1).values
    return torch.cat([lo, hi - lo], dim=1)


def build_augment(augment: dict | None, task: str = "classification") -> BatchAugment:
    """The batch augmentation for the project's ``data["augment"]`` dict (UserError for bad values)."""
    return BatchAugment(AugmentSettings.from_dict(augment), task)


def preview_augment(images: torch.Tensor, boxes: torch.Tensor | None, augment: dict | None,
                    seed: int = 0, task: str = "classification") -> tuple[torch.Tensor, torch.Tensor | None]:
    """The same images augmented as training would, reproducibly for a ``seed`` (the preview grid)."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    return build_augment(augment, task)(images.cpu(), None if boxes is None else boxes.cpu(), generator)


def v2_transform(augment: dict | None, task: str = "classification"):
    """The same augmentations as a torchvision ``transforms.v2`` pipeline for one image at a time.

    Call it as ``transform(image, boxes)`` with ``image`` a float (C, H, W) tensor and ``boxes`` a
    ``tv_tensors.BoundingBoxes`` in XYWH pixel format (or without boxes for classification).
    """
    from torchvision.transforms import v2

    s = AugmentSettings.from_dict(augment)
    steps = []
    if s.flip > 0:
        steps.append(v2.RandomHorizontalFlip(p=s.flip))
    if s.vflip > 0:
        steps.append(v2.RandomVerticalFlip(p=s.vflip))
    if s.rotation > 0 or s.shift > 0 or s.scale > 0:
        steps.append(v2.RandomAffine(
            degrees=s.rotation, translate=(s.shift, s.shift) if s.shift > 0 else None,
            scale=(1 - s.scale, 1 + s.scale) if s.scale > 0 else None,
        ))
    if any(v > 0 for v in (s.brightness, s.contrast, s.saturation, s.hue)):
        steps.append(v2.ColorJitter(brightness=s.brightness or None, contrast=s.contrast or None,
                                    saturation=s.saturation or None, hue=s.hue or None))
    if s.noise > 0:
        steps.append(v2.GaussianNoise(sigma=s.noise, clip=True))
    if "boxes" in get_task(task).data_targets:  # the task's targets move with the image (core.tasks)
        steps.append(v2.ClampBoundingBoxes())
    return v2.Compose(steps)
