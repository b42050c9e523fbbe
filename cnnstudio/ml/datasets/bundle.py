"""DatasetBundle: a whole (small) dataset as tensors, ready to live on the training device."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from cnnstudio.core.errors import UserError
from cnnstudio.ml.preprocess import ImageFacts  # how the images look; also imported from here by the loaders

# ITU-R BT.601 luma weights, the same ones OpenCV's RGB2GRAY uses
_LUMA = (0.299, 0.587, 0.114)


@dataclass(eq=False)  # tensors have no single truth value; compare fields explicitly
class DatasetBundle:
    """Train and validation tensors plus what they mean.

    ``*_x`` are float32 (N, C, H, W) in [0, 1] (not normalised); ``*_y`` int64 class indices;
    ``*_boxes`` float32 (N, 4) ``x, y, w, h`` normalised to the image with x, y the top-left corner,
    or None for classification. ``*_objects`` float32 (N, M, 5) rows ``class, x, y, w, h`` of every
    object in each image, padded with rows of class -1 to the most objects M of an image: required for
    a task whose data holds "objects" (detection), optional for localization (a YOLO folder's every
    object, its largest being ``*_boxes``), None otherwise; ``*_y`` is then the largest object's class.
    ``*_masks`` int64 (N, H, W) the class of every pixel, for a task whose data holds "masks"
    (segmentation; ``*_y`` is then the image's main class), None otherwise.
    ``skipped`` lists ``(path, reason)`` of files that could not be used.
    ``facts`` says how the images look (ink polarity, size normalisation), for the model's preprocessing.
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
    facts: ImageFacts = field(default_factory=ImageFacts)
    train_objects: torch.Tensor | None = None
    val_objects: torch.Tensor | None = None
    train_masks: torch.Tensor | None = None
    val_masks: torch.Tensor | None = None

    @classmethod
    def from_split(cls, x, y, train, val, *, classes: list[str], task: str, targets: dict | None = None,
                   facts: ImageFacts | None = None, **fields) -> DatasetBundle:
        """A bundle of images ``x`` (N, C, H, W) and labels ``y`` (N,) split by the index arrays ``train``
        and ``val``; ``targets`` maps a per-image target name ("boxes", "objects", "masks") to its
        (N, ...) array, split the same way. numpy arrays or tensors; ``facts`` default to
        :meth:`ImageFacts.measured` of the images."""
        def tensor(a):
            return a if isinstance(a, torch.Tensor) else torch.from_numpy(a)

        x, y = tensor(x), tensor(y)
        parts = {"train_x": x[train].contiguous(), "train_y": y[train], "val_x": x[val].contiguous(), "val_y": y[val]}
        for name, values in (targets or {}).items():
            values = tensor(values)
            parts[f"train_{name}"], parts[f"val_{name}"] = values[train].contiguous(), values[val].contiguous()
        return cls(**parts, classes=list(classes), task=task, facts=facts or ImageFacts.measured(x), **fields)

    def __post_init__(self) -> None:
        from cnnstudio.core.tasks import get_task, is_task

        if not is_task(self.task):
            raise ValueError(f"unknown task {self.task!r}")
        has_boxes = "boxes" in get_task(self.task).data_targets
        for x, y, boxes, which in (
            (self.train_x, self.train_y, self.train_boxes, "train"),
            (self.val_x, self.val_y, self.val_boxes, "val"),
        ):
            if x.ndim != 4 or x.dtype != torch.float32:
                raise ValueError(f"{which}_x must be float32 (N, C, H, W), got {x.dtype} {tuple(x.shape)}")
            if y.shape != (x.shape[0],) or y.dtype != torch.int64:
                raise ValueError(f"{which}_y must be int64 ({x.shape[0]},), got {y.dtype} {tuple(y.shape)}")
            if (boxes is not None) != has_boxes:
                raise ValueError(f"{which}_boxes must be given exactly for a task with boxes (localization)")
            if boxes is not None and boxes.shape != (x.shape[0], 4):
                raise ValueError(f"{which}_boxes must be ({x.shape[0]}, 4), got {tuple(boxes.shape)}")
        needs_objects = "objects" in get_task(self.task).data_targets
        for x, objects, which in ((self.train_x, self.train_objects, "train"), (self.val_x, self.val_objects, "val")):
            if needs_objects and objects is None:
                raise ValueError(f"{which}_objects must be given for a task with objects (detection)")
            if objects is not None and (objects.ndim != 3 or objects.shape[0] != x.shape[0] or objects.shape[2] != 5):
                raise ValueError(f"{which}_objects must be ({x.shape[0]}, M, 5), got {tuple(objects.shape)}")
        needs_masks = "masks" in get_task(self.task).data_targets
        for x, masks, which in ((self.train_x, self.train_masks, "train"), (self.val_x, self.val_masks, "val")):
            if (masks is not None) != needs_masks:
                raise ValueError(f"{which}_masks must be given exactly for a task with masks (segmentation)")
            if masks is not None and (masks.shape != (x.shape[0], *x.shape[2:]) or masks.dtype != torch.int64):
                raise ValueError(f"{which}_masks must be int64 ({x.shape[0]}, H, W), got {masks.dtype} {tuple(masks.shape)}")

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
        objects = {"all": (self.train_objects, self.val_objects), "train": (self.train_objects,),
                   "val": (self.val_objects,)}[split]
        from cnnstudio.core.tasks import get_task

        if "objects" in get_task(self.task).data_targets:  # a detection set counts its objects per class
            parts[split] = tuple(o[..., 0][o[..., 0] >= 0].long() for o in objects)
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
        def resize_masks(masks):  # class per pixel: nearest, so every pixel keeps a real class
            if masks is None or tuple(masks.shape[1:]) == (height, width):
                return masks
            return F.interpolate(masks[:, None].float(), size=(height, width), mode="nearest")[:, 0].long()

        return replace(
            self,
            train_x=convert_images(self.train_x, channels, height, width),
            val_x=convert_images(self.val_x, channels, height, width),
            train_masks=resize_masks(self.train_masks), val_masks=resize_masks(self.val_masks),
        )

    def to(self, device: torch.device | str) -> DatasetBundle:
        """The same bundle with every tensor on ``device``."""
        def move(t):
            return None if t is None else t.to(device)

        return replace(
            self, train_x=move(self.train_x), train_y=move(self.train_y), val_x=move(self.val_x),
            val_y=move(self.val_y), train_boxes=move(self.train_boxes), val_boxes=move(self.val_boxes),
            train_objects=move(self.train_objects), val_objects=move(self.val_objects),
            train_masks=move(self.train_masks), val_masks=move(self.val_masks),
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
