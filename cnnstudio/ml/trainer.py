"""The trainer: a plain generator that trains a spec's network on a dataset and yields small events.

No Qt here: the CLI drives it with a progress bar, the Train workspace on a worker thread. Cancel and
pause (:class:`TrainControl`) are checked between batches. :func:`train` wires four parts together
(:mod:`cnnstudio.ml.training`): the data feed (device placement, the epoch's order), the step
(forward, the task's loss, backward, optimizer and AMP scaler), the evaluation, and the run writer
(config, metrics, checkpoints, ONNX; only one process writes). What differs between tasks
(targets, loss, metrics) comes from the task registry (:mod:`cnnstudio.ml.tasks`).

Speed: the whole dataset lives as tensors on the training device, normalised once up front; batches
are index slices of a seeded permutation (no DataLoader, no per-sample work), and the running loss is
summed on the device, so a batch costs what a hand-written PyTorch loop costs (bench/bench_trainer.py).

Reproducibility: the weights are initialised from ``seed`` and every epoch draws its permutation and
dropout noise from ``(seed, epoch)``, so a resumed run continues exactly as an uninterrupted one.

Checkpoints (in ``<run>/checkpoints/``): ``last.pt`` after every epoch (resumable), ``best.pt`` when the
validation loss improves, and ``epoch{N}.pt``, the weights after epoch N, for every epoch or, for a big
model or a very long run, for evenly spaced epochs (:func:`epoch_files_kept`): Inspect's kernel slider
steps through them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnnstudio.core.data_fit import classes_for_data, task_problem
from cnnstudio.core.errors import UserError, first_line
from cnnstudio.core.train_settings import MAX_SEED, TrainConfig  # noqa: F401 - re-exported: the one settings schema
from cnnstudio.ml.device import resolve_device
from cnnstudio.ml.run_folder import (  # noqa: F401 - re-exported: the run folder's checkpoint files
    CHECKPOINT_FORMAT,
    load_checkpoint,
    mark_failed,
    read_history,
    save_checkpoint,
)
from cnnstudio.ml.tasks import TaskRuntime, as_outputs, runtime
from cnnstudio.ml.train_events import (  # noqa: F401 - re-exported: the trainer's public events
    BatchEnd,
    CheckpointSaved,
    EpochEnd,
    Failed,
    Finished,
    Started,
    TrainControl,
    TrainEvent,
)
from cnnstudio.ml.training import distributed
from cnnstudio.ml.training.evaluate import evaluate
from cnnstudio.ml.training.feed import DataFeed
from cnnstudio.ml.training.host_memory import kept_freed_memory
from cnnstudio.ml.training.step import TrainStep
from cnnstudio.ml.training.writer import RunWriter, run_values

#: how often (in batches) the running loss is checked for NaN/inf (each check waits for the device)
NAN_CHECK_EVERY = 50
#: per-epoch weight files (checkpoints/epoch{N}.pt): a model whose state_dict is at most this big keeps
#: every epoch, as long as all of them fit in EPOCH_FILES_BUDGET_BYTES ...
EPOCH_FILES_SMALL_MODEL_BYTES = 4 * 1024 * 1024
EPOCH_FILES_BUDGET_BYTES = 256 * 1024 * 1024
#: ... otherwise this many evenly spaced epochs, the last among them (a small model keeps more: as many
#: as fit in the budget)
EPOCH_FILES_SPACED = 20


# --- configuration: TrainConfig comes from cnnstudio.core.train_settings (one schema for all) -----
def lr_at(config: TrainConfig, epoch: int) -> float:
    """The learning rate of 1-based ``epoch`` under the config's schedule."""
    if config.schedule == "step":
        step = max(1, config.epochs // 3)
        return config.lr * (0.1 ** ((epoch - 1) // step))
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / config.epochs))
    return config.lr


class _StopRun(Exception):
    """Internal: end the run with :class:`Failed` and this message."""


# --- the generator ----------------------------------------------------------------------------
def train(
    spec: dict | str | Path,
    data: Any,
    config: TrainConfig | dict | None = None,
    run_dir: str | Path | None = None,
    control: TrainControl | None = None,
    *,
    resume: bool = False,
    data_config: dict | None = None,
    export: bool = True,
    model: torch.nn.Module | None = None,
) -> Iterator[TrainEvent]:
    """Train ``spec`` on ``data`` (a DatasetBundle or a project "data" dict) into ``run_dir``.

    Yields :class:`Started`, then :class:`BatchEnd` per batch, :class:`EpochEnd` and
    :class:`CheckpointSaved` per epoch, and ends with exactly one :class:`Finished` or :class:`Failed`.
    With ``resume`` a run folder holding ``checkpoints/last.pt`` continues after its last epoch; without
    it, ``epoch{N}.pt`` files left in the folder by an earlier run are removed first.
    ``model`` is a network already built from ``spec`` (fine-tuning loaded weights); by default the
    spec is built afresh from ``seed``.
    """
    control = control or TrainControl()
    run_path = Path(run_dir) if run_dir is not None else None
    writer = RunWriter(run_path) if run_path is not None and distributed.env_rank() == 0 else None  # rank 0 writes
    state: dict[str, Any] = {}
    threads_before = torch.get_num_threads()
    try:
        with kept_freed_memory():  # each step reuses the host memory the last one freed (glibc)
            yield from _train(spec, data, config, writer, control, resume, data_config, export, model, state)
    except (UserError, _StopRun, torch.OutOfMemoryError, OSError, RuntimeError, ValueError) as exc:
        last = writer.last_checkpoint if writer else None
        message = distributed.peer_failure(exc, state.get("shard"), last) or _failure_message(exc, state, run_path)
        mark_failed(writer.path if writer else None, message)
        yield Failed(message, str(run_path or ""), last)
    else:
        state.get("shard", distributed.SINGLE).close()  # after a failure the group may be broken: no teardown
    finally:
        torch.set_num_threads(threads_before)


def _failure_message(exc: Exception, state: dict, run_path: Path | None) -> str:
    """The one sentence a failed run ends with."""
    if isinstance(exc, (UserError, _StopRun)):
        return str(exc)
    if isinstance(exc, torch.OutOfMemoryError):
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give the memory back so the app can go on
        size = state.get("batch_size", 0)
        return (f"The {state.get('device', 'GPU')} ran out of memory with batch size {size}; "
                f"try a smaller batch size (for example {max(1, size // 2)}) or a smaller network.")
    if isinstance(exc, OSError):  # e.g. the run folder cannot be written (a file in the way, read-only, full)
        where = exc.filename or run_path or "the run folder"
        return f"Training stopped: cannot use {where} ({exc.strerror or exc})."
    first = first_line(exc, 300)
    return f"Training stopped with an error: {first}"


def _train(spec, data, config, writer, control, resume, data_config, export, model, state):
    run = _prepare(spec, data, config, data_config, model, state)
    run.writer = writer
    if writer is not None:
        _start_writing(run, writer, resume)
    distributed.synchronise(run, resume)  # several processes (torchrun): same start, model wrapped in DDP
    feed = run.feed
    yield Started(str(writer.path if writer else ""), str(run.device), run.cfg.epochs, run.start_epoch,
                  feed.batches, feed.n_train, feed.n_val, run.amp)
    status = yield from _epochs(run, control)
    yield _finish(run, status, export)


# --- setting up -------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Run:
    """One training run's parts and progress."""

    cfg: Any
    spec: dict
    data: Any
    data_config: Any
    device: torch.device
    amp: bool
    model: torch.nn.Module
    task: TaskRuntime
    step: TrainStep
    feed: DataFeed
    writer: RunWriter | None = None  # None: no run folder (or, later, a process that does not write)
    start_epoch: int = 1
    best: dict = field(default_factory=lambda: {"loss": math.inf, "epoch": 0, "since": 0})
    history: list = field(default_factory=list)
    images_done: int = 0
    trained_seconds: float = 0.0

    @property
    def images_total(self) -> int:
        return max(0, self.cfg.epochs - self.start_epoch + 1) * self.feed.n_train


def _load_inputs(spec, data, config, data_config):
    """(config, spec, data, data_config) from what train() was given, checked."""
    from cnnstudio.core import train_settings
    from cnnstudio.core.spec import load_spec

    # a config of the schema's generated class (the one in train_settings now: see docs/dev/extending.md)
    cfg = config if hasattr(config, "OPTIONS") else train_settings.TrainConfig.from_dict(config)
    cfg.validate()
    spec = load_spec(spec)
    if isinstance(data, dict):
        from cnnstudio.ml.datasets import load_dataset

        data_config = data_config or data
        data = load_dataset(data)
    inp = spec["input"]
    data = data.fit_to(int(inp["channels"]), int(inp["height"]), int(inp["width"]))
    problem = task_problem(spec, data.task)
    if problem:
        raise UserError(problem)
    if len(data.val_x) == 0:
        raise UserError("The data has no validation images; set a validation fraction above 0.")
    if len(data.train_x) < 2:
        raise UserError("The data has fewer than 2 training images; there is nothing to train on.")
    return cfg, spec, data, data_config


def _fit_spec_to_data(spec: dict, data) -> dict:
    """The spec as trained: the data's class names and the preprocessing of the pipeline that trained it."""
    from cnnstudio.ml.preprocess import training_preprocess

    spec = dict(spec)
    spec["classes"] = classes_for_data(spec, data.classes)  # the exported model names the data's classes
    spec["preprocess"] = training_preprocess(spec, data)  # what the model saw: from the data, not the template
    return spec


def _prepare(spec, data, config, data_config, model, state) -> _Run:
    cfg, spec, data, data_config = _load_inputs(spec, data, config, data_config)
    device, shard = distributed.setup(resolve_device(cfg.device))  # joins torchrun's process group
    state["shard"] = shard
    state["device"] = {"cuda": "GPU", "mps": "Apple GPU"}.get(device.type, "computer")
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(cfg.threads))
    amp = bool(cfg.mixed_precision and device.type == "cuda")
    spec = _fit_spec_to_data(spec, data)
    torch.manual_seed(cfg.seed)
    if model is None:
        from cnnstudio.ml.builder import build_model

        model = build_model(spec)
    task = runtime(spec.get("task"))
    _check_outputs(model, data, task)
    model.to(device)
    step = TrainStep(model, task, cfg, amp)
    feed = DataFeed(data, task, device, preprocess_of(spec), cfg.batch_size, _augment(data_config, spec), shard)
    state["batch_size"] = feed.batch_size
    return _Run(cfg, spec, data, data_config, device, amp, model, task, step, feed)


def _check_outputs(model, data, task_runtime: TaskRuntime) -> None:
    """The network runs on the data's images and ends in one score per class (and the task's outputs)."""
    c, h, w = data.input_shape
    model.eval()
    try:
        with torch.no_grad():
            outputs = as_outputs(model(data.train_x[:2]))
    except RuntimeError as exc:
        first = first_line(exc, 200, "error")
        raise UserError(f"The network cannot run on {c}x{h}x{w} images: {first}") from None
    task = task_runtime.task
    if len(outputs) != len(task.outputs):
        raise UserError(f"The network is set to {task.name} but does not give its outputs "
                        f"({', '.join(task.outputs)}); check its head in the Designer.")
    problem = task_runtime.check_outputs(outputs, data.num_classes)  # the task's rule for its outputs
    if problem:
        raise UserError(problem)


def _augment(data_config, spec: dict):
    if not (isinstance(data_config, dict) and data_config.get("augment")):
        return None
    from cnnstudio.ml.augment import build_augment

    augment = build_augment(data_config["augment"], str(spec.get("task", "classification")))
    return augment if augment.active else None


def _start_writing(run: _Run, writer: RunWriter, resume: bool) -> None:
    """Continue from ``last.pt`` (with ``resume``) and write the run's config."""
    payload = writer.resume_payload(run.device) if resume else None
    if payload is not None:
        run.model.load_state_dict(payload["model"])
        run.step.load_state(payload)
        run.start_epoch = int(payload["epoch"]) + 1
        run.best = {"loss": float(payload["best_val_loss"]), "epoch": int(payload["best_epoch"]),
                    "since": int(payload["epochs_since_best"])}
        run.history = [r for r in read_history(writer.path) if r.get("epoch", 0) < run.start_epoch]
    writer.start(run.spec, run_values(run.cfg, run.data, run.data_config, run.device, run.amp, run.feed),
                 run.start_epoch, resume)


# --- the epochs -------------------------------------------------------------------------------------
def _epochs(run: _Run, control: TrainControl):
    """Train epoch after epoch; returns the status: completed, cancelled or early_stopped."""
    cfg, writer = run.cfg, run.writer
    weights_bytes = state_dict_bytes(run.model)
    for epoch in range(run.start_epoch, cfg.epochs + 1):
        if control.cancelled:
            return "cancelled"
        trained = yield from _train_epoch(run, epoch, control)
        if trained is None:
            return "cancelled"
        ev, row, improved = _evaluate_epoch(run, epoch, *trained)
        yield EpochEnd(epoch, cfg.epochs, dict(row), tuple(ev["per_class"]), ev["confusion"],
                       ev["predictions"], ev["boxes"], improved)
        stop_early = bool(cfg.early_stopping and run.best["since"] >= cfg.early_stopping and epoch < cfg.epochs)
        if writer is not None:
            resumable = {**run.step.state(), "best_val_loss": run.best["loss"], "best_epoch": run.best["epoch"],
                         "epochs_since_best": run.best["since"]}
            keep = stop_early or keeps_epoch_file(epoch, cfg.epochs, weights_bytes)
            yield from writer.end_epoch(epoch, run.model, resumable, improved, keep, run.history,
                                        run.best["epoch"], ev)
        if stop_early:
            return "early_stopped"
    return "completed"


def _train_epoch(run: _Run, epoch: int, control: TrainControl):
    """One pass over the training images, yielding BatchEnd; returns (loss sum, hits, images, start time,
    seconds paused), the sums still on the device, or None when cancelled."""
    cfg, feed, step = run.cfg, run.feed, run.step
    step.set_lr(lr_at(cfg, epoch))
    epoch_seed = cfg.seed * 1_000_003 + epoch
    torch.manual_seed(epoch_seed)  # dropout noise of this epoch
    perm = feed.order(epoch_seed)
    run.model.train()
    loss_sum = torch.zeros((), device=run.device)
    hits = torch.zeros((), dtype=torch.int64, device=run.device)
    seen, paused, t_start = 0, 0.0, time.perf_counter()
    for b in range(feed.batches):
        xb, targets = feed.batch(perm, b)
        loss, batch_hits = step(xb, targets)
        n_b = int(xb.shape[0])
        seen += n_b
        loss_sum.add_(loss, alpha=n_b)  # one kernel, no wait for the device
        hits.add_(batch_hits)
        run.images_done += n_b * feed.shard.world  # progress in images of all processes
        if (b + 1) % NAN_CHECK_EVERY == 0 and not bool(torch.isfinite(loss_sum)):
            raise _StopRun(_nan_message(epoch, run))
        if control.paused:
            paused += control.wait_while_paused()
        if control.cancelled:
            return None
        yield BatchEnd(epoch, cfg.epochs, b + 1, feed.batches, run.images_done, run.images_total,
                       run.trained_seconds + time.perf_counter() - t_start - paused)
    return loss_sum, hits, seen, t_start, paused


def _evaluate_epoch(run: _Run, epoch: int, loss_sum, hits, seen: int, t_start: float, paused: float):
    """Validation after an epoch: (evaluation, metrics.jsonl row, improved)."""
    if run.feed.shard.active:  # the sums of all processes
        seen_t = torch.tensor(seen, dtype=torch.int64, device=run.device)
        run.feed.shard.sum(loss_sum, hits, seen_t)
        seen = int(seen_t)
    train_loss = float(loss_sum) / max(1, seen)  # waits for the device once per epoch
    train_seconds = time.perf_counter() - t_start - paused
    if not math.isfinite(train_loss):
        raise _StopRun(_nan_message(epoch, run))
    ev = evaluate(run.model, run.feed, run.cfg, run.step.autocast, run.data.num_classes,
                  max(run.feed.batch_size, 256))
    if not math.isfinite(ev["loss"]):
        raise _StopRun(_nan_message(epoch, run))
    seconds = time.perf_counter() - t_start - paused
    run.trained_seconds += seconds
    row = {
        "epoch": epoch,
        "train_loss": round(train_loss, 6),
        "train_accuracy": round(float(hits) / max(1, seen), 6),
        "val_loss": round(ev["loss"], 6),
        "val_accuracy": round(ev["accuracy"], 6),
        "lr": lr_at(run.cfg, epoch),
        "seconds": round(seconds, 4),
        "images_per_second": round(seen / max(train_seconds, 1e-9), 1),
        **ev["row"],
    }
    run.history.append(row)
    improved = ev["loss"] < run.best["loss"]
    if improved:
        run.best = {"loss": ev["loss"], "epoch": epoch, "since": 0}
    else:
        run.best["since"] += 1
    return ev, row, improved


def _finish(run: _Run, status: str, export: bool) -> Finished:
    writer = run.writer
    last_row = run.history[-1] if run.history else {}
    best_row = next((r for r in run.history if r["epoch"] == run.best["epoch"]), last_row)
    message = ""
    if status == "cancelled":
        message = (f"Cancelled after epoch {last_row['epoch']}; resume to continue." if last_row
                   else "Cancelled before the first epoch ended.")
    elif status == "early_stopped":
        message = f"Stopped early: no better validation loss for {run.cfg.early_stopping} epochs."
    onnx_path = None
    if writer is not None:
        exporting = export and status != "cancelled" and run.history
        onnx_path, message = writer.finish(status, run.history, run.best["epoch"], message,
                                           run.model if exporting else None, run.spec)
    return Finished(status, dict(last_row), dict(best_row), str(writer.path if writer else ""), onnx_path, message)


def _nan_message(epoch: int, run: _Run) -> str:
    keep = (" The last good checkpoint is kept." if run.writer is not None and run.writer.last_checkpoint
            else " No epoch finished, so there is no checkpoint.")
    return (f"The loss became NaN or infinite in epoch {epoch}, so training stopped; "
            f"try a lower learning rate.{keep}")


# --- helpers --------------------------------------------------------------------------------------
def preprocess_of(spec: dict):
    """The spec's preprocessing (mean/std the trainer applies once to the whole dataset)."""
    from cnnstudio.core.model_meta import Preprocess

    return Preprocess.from_dict(spec.get("preprocess"), int(spec["input"]["channels"]))


def state_dict_bytes(model: torch.nn.Module) -> int:
    """The size of the model's weights and buffers (what a weights-only checkpoint holds), in bytes."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values() if isinstance(t, torch.Tensor))


def epoch_files_kept(epochs: int, state_bytes: int) -> int:
    """How many ``epoch{N}.pt`` files a run of ``epochs`` epochs keeps for a model of ``state_bytes``.

    Every epoch when the model's weights take at most 4 MiB and all the files together at most 256 MiB;
    otherwise 20 evenly spaced epochs, or for a small model (at most 4 MiB) as many as fit in 256 MiB.
    """
    if state_bytes <= EPOCH_FILES_SMALL_MODEL_BYTES:
        count = max(EPOCH_FILES_SPACED, EPOCH_FILES_BUDGET_BYTES // max(1, state_bytes))
    else:
        count = EPOCH_FILES_SPACED
    return max(1, min(int(epochs), count))


def keeps_epoch_file(epoch: int, epochs: int, state_bytes: int) -> bool:
    """Whether 1-based ``epoch`` of a run of ``epochs`` epochs saves ``epoch{N}.pt``.

    Of ``n`` = :func:`epoch_files_kept` files the k-th is epoch ceil(k * epochs / n), k = 1 ... n: evenly
    spaced, ending with the last epoch. It depends only on these numbers, so a resumed run keeps the plan.
    """
    if epoch >= epochs:
        return True
    n = epoch_files_kept(epochs, state_bytes)
    return (epoch * n) // epochs > ((epoch - 1) * n) // epochs


def cpu_threads(requested: int = 0) -> int:
    """Threads for CPU training: ``requested``, or for 0 the cores the machine leaves free (at least 1).

    Two OpenMP threads on two cores that other programs also use wait on each other and run many
    times slower than one thread, so a busy machine gets fewer threads.
    """
    if requested > 0:
        return requested
    default = torch.get_num_threads()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return default
    free = (os.cpu_count() or default) - load
    return max(1, min(default, int(free + 0.5)))


__all__ = [
    "BatchEnd", "CheckpointSaved", "EpochEnd", "Failed", "Finished", "Started", "TrainConfig",
    "TrainControl", "TrainEvent", "epoch_files_kept", "keeps_epoch_file", "load_checkpoint", "lr_at",
    "read_history", "save_checkpoint", "state_dict_bytes", "train",
]
