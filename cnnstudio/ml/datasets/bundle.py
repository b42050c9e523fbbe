"""DatasetBundle: a whole (small) dataset as tensors, ready to live on the training device."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from cnnstudio.core.errors import UserError

# ITU-R BT.601 luma weights, the same ones OpenCV's RGB2GRAY uses
_LUMA = (0.299, 0.587, 0.114)


@dataclass(eq=False)  # tensors have no single truth value; compare fields explicitly
class DatasetBundle:
    """Train and validation tensors plus what they mean.

    ``*_x`` are float32 (N, C, H, W) in [0, 1] (not normalised); ``*_y`` int64 class indices;
    ``*_boxes`` float32 (N, 4) ``x, y, w, h`` normalised to the image with x, y the top-left corner,
    or None for classification. ``skipped`` lists ``(path, reason)`` of files that could not be used.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    classes: list[str]
    task: str = "classification"
    train_boxes: torch.Tensor | None = None
    val_boxes: torch.Tensor | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        if self.task not in ("classification", "localization"):
            raise ValueError(f"unknown task {self.task!r}")
        for x, y, boxes, which in (
            (self.train_x, self.train_y, self.train_boxes, "train"),
            (self.val_x, self.val_y, self.val_boxes, "val"),
        ):
            if x.ndim != 4 or x.dtype != torch.float32:
                raise ValueError(f"{which}_x must be float32 (N, C, H, W), got {x.dtype} {tuple(x.shape)}")
            if y.shape != (x.shape[0],) or y.dtype != torch.int64:
                raise ValueError(f"{which}_y must be int64 ({x.shape[0]},), got {y.dtype} {tuple(y.shape)}")
            if (boxes is None) != (self.task == "classification"):
                raise ValueError(f"{which}_boxes must be given exactly for localization")
            if boxes is not None and boxes.shape != (x.shape[0], 4):
                raise ValueError(f"{which}_boxes must be ({x.shape[0]}, 4), got {tuple(boxes.shape)}")

    # --- facts ---------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of every image."""
        ref = self.train_x if len(self.train_x) else self.val_x
        return tuple(int(s) for s in ref.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return int(self.train_x.shape[0] + self.val_x.shape[0])

    def class_counts(self, split: str = "all") -> dict[str, int]:
        """Images per class name in ``"all"``, ``"train"`` or ``"val"`` (every class listed, zeros too)."""
        parts = {"all": (self.train_y, self.val_y), "train": (self.train_y,), "val": (self.val_y,)}
        if split not in parts:
            raise ValueError(f"split must be all, train or val, not {split!r}")
        counts = torch.zeros(len(self.classes), dtype=torch.int64)
        for y in parts[split]:
            if len(y):
                counts += torch.bincount(y.cpu(), minlength=len(self.classes))[: len(self.classes)]
        return {name: int(c) for name, c in zip(self.classes, counts.tolist())}

    # --- conversions ---------------------------------------------------------------------------
    def fit_to(self, channels: int, height: int, width: int) -> DatasetBundle:
        """A bundle whose images have ``channels`` (1 or 3), ``height`` and ``width``.

        Gray becomes RGB by repeating the channel and RGB becomes gray by luma. Images are resized
        without keeping the aspect ratio, so normalised boxes stay exactly valid.
        """
        c_now = self.input_shape[0]
        if channels == c_now and (height, width) == tuple(self.input_shape[1:]):
            return self
        if channels not in (1, 3) and channels != c_now:
            raise UserError(
                f"The network expects {channels} input channels; datasets can be converted to 1 (gray) "
                f"or 3 (RGB) channels only, and this one has {c_now}."
            )
        if height < 1 or width < 1:
            raise UserError(f"The network's input size {height}×{width} is not a valid image size.")
        return replace(
            self,
            train_x=convert_images(self.train_x, channels, height, width),
            val_x=convert_images(self.val_x, channels, height, width),
        )

    def to(self, device: torch.device | str) -> DatasetBundle:
        """The same bundle with every tensor on ``device``."""
        def move(t):
            return None if t is None else t.to(device)

        return replace(
            self, train_x=move(self.train_x), train_y=move(self.train_y), val_x=move(self.val_x),
            val_y=move(self.val_y), train_boxes=move(self.train_boxes), val_boxes=move(self.val_boxes),
        )


def convert_images(x: torch.Tensor, channels: int, height: int, width: int, chunk: int = 4096) -> torch.Tensor:
    """Change channels (1 <-> 3) and size of a float (N, C, H, W) batch, in chunks to bound memory."""
    if x.shape[0] == 0:
        return x.new_zeros((0, channels, height, width))
    out = []
    for start in range(0, x.shape[0], chunk):
        part = x[start:start + chunk]
        c = part.shape[1]
        if c != channels:
            if c == 1:
                part = part.expand(-1, channels, -1, -1)
            elif c == 3 and channels == 1:
                weights = part.new_tensor(_LUMA).view(1, 3, 1, 1)
                part = (part * weights).sum(dim=1, keepdim=True)
            else:
                raise UserError(f"Cannot convert {c}-channel images to {channels} channels.")
        if tuple(part.shape[2:]) != (height, width):
            shrinking = part.shape[2] > height or part.shape[3] > width
            part = F.interpolate(part, size=(height, width), mode="bilinear", align_corners=False,
                                 antialias=shrinking)
        out.append(part.clamp(0.0, 1.0).contiguous())
    return torch.cat(out)
