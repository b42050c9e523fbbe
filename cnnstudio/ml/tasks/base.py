"""The ml side of the task registry: what training, evaluation and inference do per task.

Each task of :mod:`cnnstudio.core.tasks` registers a :class:`TaskRuntime` here under the same name:
its targets (from a :class:`DatasetBundle`), loss, train-accuracy hits, validation metrics, the
decoding of raw outputs (logits -> probabilities, boxes) and the overlay drawn on an image. torch is
imported inside the methods, so decoding and drawing (Live, ONNX Runtime) need no torch.

Outputs are always a tuple in the order of the core task's ``outputs`` (a model returning a single
tensor gives a 1-tuple: :func:`as_outputs`); targets are a tuple of tensors aligned with the images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.tasks import DEFAULT_TASK, get_task


def as_outputs(out: Any) -> tuple:
    """A model's output as a tuple (a classifier returns one tensor, a localizer a tuple)."""
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def probabilities(scores: np.ndarray) -> np.ndarray:
    """Class probabilities from scores (N, K) or (K,): softmax over the last axis, or the scores
    themselves when they already are probabilities (a model ending in softmax)."""
    x = np.asarray(scores, dtype=np.float32)
    if x.size and x.min() >= 0.0 and float(np.abs(x.sum(axis=-1) - 1.0).max()) <= 1e-3:
        return x
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Decoded:
    """What a batch of raw outputs means: class probabilities (N, K), boxes (N, 4) or None, for a
    detector per image an (M, 6) array of objects ``x, y, w, h, score, class`` (best first) or None, and
    for a segmenter the class of every pixel (N, h, w) or None."""

    probabilities: np.ndarray
    boxes: np.ndarray | None = None
    objects: tuple | None = None
    masks: np.ndarray | None = None  # a segmenter's class per pixel, uint8 (N, h, w)

    def box(self, index: int = 0) -> tuple[float, float, float, float] | None:
        """The image's box (a detector's best object), or None."""
        if self.boxes is None:
            found = self.objects_of(index)
            return tuple(float(v) for v in found[0][:4]) if len(found) else None  # type: ignore[return-value]
        return tuple(float(v) for v in self.boxes[index][:4])  # type: ignore[return-value]

    def objects_of(self, index: int = 0) -> np.ndarray:
        """The objects found in image ``index``: (M, 6) ``x, y, w, h, score, class`` (empty when none)."""
        if self.objects is None:
            return np.zeros((0, 6), np.float32)
        return np.asarray(self.objects[index], np.float32).reshape(-1, 6)


class TaskRuntime:
    """The ml side of one task; subclasses override what differs. ``name`` is the core task's name."""

    name = ""

    @property
    def task(self):
        return get_task(self.name)

    # --- training ---------------------------------------------------------------------------------
    def targets(self, bundle: Any, split: str) -> tuple:
        """The per-image targets of ``split`` ("train" or "val") of a DatasetBundle, as a tuple of tensors."""
        raise NotImplementedError

    def augment(self, augment: Any, x: Any, targets: tuple, generator: Any) -> tuple[Any, tuple]:
        """Augmented images (and targets that move with them, such as boxes)."""
        x, _ = augment(x, None, generator)
        return x, targets

    def loss(self, outputs: tuple, targets: tuple, config: Any, reduction: str = "mean"):
        raise NotImplementedError

    def hits(self, outputs: tuple, targets: tuple):
        """How many images of the batch are predicted right (a 0-d tensor, left on the device)."""
        raise NotImplementedError

    def check_outputs(self, outputs: tuple, num_classes: int) -> str | None:
        """Why the model's outputs (on two images) cannot train on data of ``num_classes`` classes, or None:
        by default the first output must be (N, num_classes) class scores."""
        from cnnstudio.core.data_fit import classes_message

        logits = outputs[0]
        if logits.ndim != 2 or logits.shape[1] != num_classes:
            return classes_message("x".join(str(s) for s in logits.shape[1:]), num_classes)  # type: ignore[arg-type]
        return None

    def evaluate(self, outputs: tuple, targets: tuple, num_classes: int) -> dict:
        """Validation results from the whole set's outputs: ``accuracy``, ``per_class``, ``confusion``,
        ``predictions``, ``boxes`` (or None) and ``row`` (extra metrics.jsonl entries, e.g. val_iou)."""
        raise NotImplementedError

    # --- inference --------------------------------------------------------------------------------
    def decode(self, values: dict[str, np.ndarray]) -> Decoded:
        """Raw outputs by name (the core task's ``outputs``) -> :class:`Decoded`."""
        raise NotImplementedError

    def decode_outputs(self, outputs: tuple) -> Decoded:
        """Raw outputs in model order (tensors or arrays) -> :class:`Decoded`."""
        arrays = [o.detach().float().cpu().numpy() if hasattr(o, "detach") else np.asarray(o) for o in outputs]
        return self.decode(dict(zip(self.task.outputs, arrays)))

    def overlay(self, image: np.ndarray, decoded: Decoded, index: int = 0, label: str = "",
                color: tuple[int, int, int] = (230, 60, 60), names=()) -> np.ndarray:
        """``image`` (RGB uint8) with what the model found drawn on it (nothing for a plain classifier);
        ``names`` are the class names (a detector labels each object)."""
        return image


_RUNTIMES: dict[str, TaskRuntime] = {}


def register_runtime(runtime: TaskRuntime) -> TaskRuntime:
    _RUNTIMES[runtime.name] = runtime
    return runtime


def unregister_runtime(name: str) -> None:
    _RUNTIMES.pop(name, None)


def runtime(name: str | None) -> TaskRuntime:
    """The ml side of task ``name`` (classification for None); UserError when it has none."""
    from cnnstudio.core.errors import UserError

    name = name or DEFAULT_TASK
    try:
        return _RUNTIMES[name]
    except KeyError:
        raise UserError(f"CNN Studio cannot train or run {name!r} networks (no such task).") from None


def runtime_of_model(name: str | None) -> TaskRuntime:
    """The runtime of a model's recorded task; a model of a task unknown here is read as a classifier."""
    return _RUNTIMES.get(name or DEFAULT_TASK) or _RUNTIMES[DEFAULT_TASK]


def runtime_for_outputs(names: list[str] | tuple[str, ...]) -> TaskRuntime:
    """The runtime for a model with outputs ``names``: of the registered tasks whose outputs after the
    class scores are all there, the one with most of its outputs named there (another tool's plain
    classifier: classification)."""
    from cnnstudio.core.tasks import all_tasks

    given = set(names)
    fits = [t for t in all_tasks() if t.name in _RUNTIMES and set(t.outputs[1:]) <= given]
    best = max(fits, key=lambda t: (len(set(t.outputs) & given), t.name == DEFAULT_TASK), default=None)
    return _RUNTIMES[best.name] if best is not None else _RUNTIMES[DEFAULT_TASK]
