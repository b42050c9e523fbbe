"""The trainer's control object and events, without torch.

The GUI creates a :class:`TrainControl` and reads the events on its own thread; keeping them here means
that needs no torch import there (``cnnstudio.ml.trainer`` re-exports all of them).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np


class TrainControl:
    """Thread-safe cancel / pause / resume for a running :func:`train` generator."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    def pause(self) -> None:
        if not self._cancel.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (until resume or cancel); return the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - start


@dataclass(frozen=True)
class Started:
    run_dir: str
    device: str  # "cpu", "cuda:0", ...
    epochs: int
    start_epoch: int  # 1 for a new run; later for a resumed one
    batches_per_epoch: int
    train_size: int
    val_size: int
    mixed_precision: bool  # whether autocast + GradScaler are active


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based within the epoch
    batches: int
    images_done: int  # images trained since this (possibly resumed) run started
    images_total: int  # images this run will train if it goes to the last epoch
    elapsed: float  # seconds of training since start, pauses excluded


@dataclass(frozen=True, eq=False)
class EpochEnd:
    epoch: int
    epochs: int
    metrics: dict  # the metrics.jsonl row: epoch, train_loss, val_loss, val_accuracy, ...
    per_class_accuracy: tuple = ()  # validation recall per class (None for a class without samples)
    confusion: np.ndarray | None = None  # (classes, classes) int64, rows = true class
    val_predictions: np.ndarray | None = None  # (N_val,) predicted class per validation image
    val_boxes: np.ndarray | None = None  # (N_val, 4) predicted boxes (localization)
    improved: bool = False  # the best validation loss so far


@dataclass(frozen=True)
class CheckpointSaved:
    epoch: int
    path: str
    kind: str  # "last" (resumable), "best" (weights of the best epoch) or "epoch" (epoch{N}.pt, weights)


@dataclass(frozen=True)
class Finished:
    status: str  # "completed", "early_stopped" or "cancelled"
    metrics: dict  # the last epoch's row ({} if no epoch finished)
    best: dict  # the best epoch's row
    run_dir: str
    onnx_path: str | None
    message: str = ""


@dataclass(frozen=True)
class Failed:
    message: str
    run_dir: str = ""
    checkpoint: str | None = None  # the last good checkpoint, if any


TrainEvent = Started | BatchEnd | EpochEnd | CheckpointSaved | Finished | Failed
