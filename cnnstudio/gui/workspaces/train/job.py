"""Work done on the training thread: load the data, then run the trainer generator.

A plain generator (the Train workspace's WorkerGroup runs it); it never touches a widget and yields only
frozen events holding numbers and numpy arrays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DataReady:
    """The validation images (for the misclassified view), sent before training starts."""

    classes: tuple[str, ...]
    val_images: np.ndarray  # uint8 (N, H, W, 3)
    val_labels: np.ndarray  # int64 (N,)
    task: str


def to_display(x) -> np.ndarray:
    """float tensor (N, C, H, W) in [0, 1] -> uint8 (N, H, W, 3)."""
    import torch

    arr = (x.detach().cpu().clamp(0, 1) * 255.0 + 0.5).to(dtype=torch.uint8).numpy().transpose(0, 2, 3, 1)
    if arr.shape[3] == 1:
        arr = np.repeat(arr, 3, axis=3)
    return np.ascontiguousarray(arr)


def training_job(spec: dict | None, data_config: dict | None, training: dict | None, run_dir: str,
                 control, done: threading.Event, resume: bool = False):
    """Yield :class:`DataReady` then the trainer's events; a problem becomes one ``Failed`` event.

    With ``resume`` the run in ``run_dir`` continues with its own spec, data and settings.
    """
    from cnnstudio.ml.trainer import Failed

    try:
        from cnnstudio.core.errors import UserError, first_line
        from cnnstudio.ml.datasets import load_dataset
        from cnnstudio.ml.runs import load_run, resume_run, run_data_config
        from cnnstudio.ml.trainer import TrainConfig, train

        try:
            if resume:  # the run's own spec, data and settings, through the CLI's resume_run
                data_config = run_data_config(load_run(run_dir))
            else:
                config = TrainConfig.from_dict(training)
            bundle = load_dataset(data_config)
        except UserError as exc:
            yield Failed(str(exc), run_dir)
            return
        if control.cancelled:
            yield Failed("Stopped before training started.", run_dir)
            return
        yield DataReady(tuple(bundle.classes), to_display(bundle.val_x), bundle.val_y.numpy().copy(), bundle.task)
        if resume:
            try:
                events = resume_run(run_dir, control, data=bundle)
            except UserError as exc:
                yield Failed(str(exc), run_dir)
                return
            yield from events
        else:
            yield from train(spec, bundle, config, run_dir, control, data_config=data_config)
    except Exception as exc:  # shown in the view as one sentence, never raised into Qt
        first = first_line(exc, 300)
        yield Failed(f"Training stopped with an error: {first}", run_dir)
    finally:
        done.set()
