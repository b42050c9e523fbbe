"""Work done on the loader thread: load the dataset and pick the samples the views show.

Plain functions and generators (the workspace's WorkerGroup runs them); they never touch a widget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: at most this many thumbnails in the sample grid
GRID_SAMPLES = 120
#: images in the augmentation preview (rows) and augmented copies of each (columns)
PREVIEW_ROWS = 6
PREVIEW_VARIANTS = 5


@dataclass(frozen=True)
class Samples:
    """Images picked for display, as numpy (no tensors cross into widgets)."""

    images: np.ndarray  # uint8 (N, H, W, 3)
    labels: np.ndarray  # int64 (N,)
    boxes: np.ndarray | None  # float32 (N, 4) normalised x, y, w, h, or (N, M, 4) per object (NaN: none)
    split: list[str]  # "train" / "val" per image
    index: np.ndarray  # index within its split


@dataclass(frozen=True)
class Loaded:
    """What the workspace keeps of a loaded dataset."""

    bundle: object  # cnnstudio.ml.datasets.DatasetBundle
    samples: Samples
    counts_train: dict[str, int]
    counts_val: dict[str, int]


def to_display(x) -> np.ndarray:
    """float tensor (N, C, H, W) in [0, 1] -> uint8 (N, H, W, 3)."""
    import torch

    arr = (x.detach().cpu().clamp(0, 1) * 255.0 + 0.5).to(dtype=torch.uint8).numpy()
    arr = arr.transpose(0, 2, 3, 1)
    if arr.shape[3] == 1:
        arr = np.repeat(arr, 3, axis=3)
    return np.ascontiguousarray(arr)


def pick_samples(bundle, limit: int = GRID_SAMPLES) -> Samples:
    """Up to ``limit`` images, the same number per class (train first, then validation), grouped by class."""
    import torch

    per_class = max(1, limit // max(1, len(bundle.classes)))
    parts = {"train": (bundle.train_x, bundle.train_y, bundle.train_boxes),
             "val": (bundle.val_x, bundle.val_y, bundle.val_boxes)}
    picked: list[tuple[int, str, int]] = []  # (class, split, index)
    for c in range(len(bundle.classes)):
        room = per_class
        for split, (_, y, _) in parts.items():
            idx = (y == c).nonzero().flatten()[:room].tolist()
            picked += [(c, split, i) for i in idx]
            room -= len(idx)
    if not picked:
        return Samples(np.zeros((0, 1, 1, 3), np.uint8), np.zeros(0, np.int64), None, [], np.zeros(0, np.int64))
    images = torch.stack([parts[s][0][i] for _, s, i in picked])
    boxes = None
    if bundle.train_boxes is not None:
        boxes = torch.stack([parts[s][2][i] for _, s, i in picked]).numpy()
    elif getattr(bundle, "train_objects", None) is not None:  # several objects per image (detection)
        objects = {"train": bundle.train_objects, "val": bundle.val_objects}
        rows = torch.stack([objects[s][i] for _, s, i in picked]).numpy()
        boxes = np.where(rows[..., :1] >= 0, rows[..., 1:], np.nan).astype(np.float32)
    return Samples(
        images=to_display(images),
        labels=np.array([c for c, _, _ in picked], dtype=np.int64),
        boxes=boxes,
        split=[s for _, s, _ in picked],
        index=np.array([i for _, _, i in picked], dtype=np.int64),
    )


def load_job(config: dict):
    """Generator run on a worker: yields the loader's progress events and returns a :class:`Loaded`.

    A newer load stops it at its next yield (cnnstudio.gui.workers); an error propagates and is shown
    as one sentence.
    """
    from cnnstudio.ml.datasets import iter_load_dataset

    bundle = yield from iter_load_dataset(config)
    return Loaded(bundle, pick_samples(bundle), bundle.class_counts("train"), bundle.class_counts("val"))


def preview_images(samples: Samples, augment: dict, seed: int, task: str):
    """(rows, 1 + variants) mosaic cells: the original then augmented copies, as uint8 images + boxes."""
    import torch

    from cnnstudio.ml.augment import preview_augment

    rows = min(PREVIEW_ROWS, len(samples.images))
    if rows == 0:
        return np.zeros((0, 0, 1, 1, 3), np.uint8), None
    step = max(1, len(samples.images) // rows)
    pick = np.arange(0, step * rows, step)[:rows]
    base = torch.from_numpy(samples.images[pick]).permute(0, 3, 1, 2).float() / 255.0
    boxes = None if samples.boxes is None or samples.boxes.ndim != 2 else torch.from_numpy(samples.boxes[pick])
    batch = base.repeat_interleave(PREVIEW_VARIANTS, dim=0)
    batch_boxes = None if boxes is None else boxes.repeat_interleave(PREVIEW_VARIANTS, dim=0)
    out, out_boxes = preview_augment(batch, batch_boxes, augment, seed=seed, task=task)
    cells = np.concatenate([
        samples.images[pick][:, None],
        to_display(out).reshape(rows, PREVIEW_VARIANTS, *samples.images.shape[1:]),
    ], axis=1)
    cell_boxes = None
    if boxes is not None:
        cell_boxes = np.concatenate([boxes.numpy()[:, None], out_boxes.numpy().reshape(rows, PREVIEW_VARIANTS, 4)], 1)
    return cells, cell_boxes
