"""The trainer: a plain generator that trains a spec's network on a dataset and yields small events.

No Qt here: the CLI drives it with a progress bar, the Train workspace on a worker thread. Cancel and
pause (:class:`TrainControl`) are checked between batches.

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

import contextlib
import io
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from cnnstudio.core.errors import UserError
from cnnstudio.core.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from cnnstudio.core.project import default_training
from cnnstudio.ml import metrics as M
from cnnstudio.ml.device import resolve_device
from cnnstudio.ml.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    RUN_FORMAT,
    RUN_VERSION,
    epoch_checkpoint_name,
    epoch_checkpoints,
    read_history,
)
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

OPTIMIZERS = {"sgd": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}
SCHEDULES = {"none": "Constant", "step": "Step (x0.1 every third of the epochs)", "cosine": "Cosine"}
BOX_LOSSES = {"smooth_l1": "Smooth L1", "giou": "GIoU"}
DEVICES = ("auto", "cpu", "cuda", "mps")

CHECKPOINT_FORMAT = "cnnstudio-checkpoint"
#: the largest seed (as the data settings' seed)
MAX_SEED = 2**31 - 1
#: how often (in batches) the running loss is checked for NaN/inf (each check waits for the device)
NAN_CHECK_EVERY = 50
#: per-epoch weight files (checkpoints/epoch{N}.pt): a model whose state_dict is at most this big keeps
#: every epoch, as long as all of them fit in EPOCH_FILES_BUDGET_BYTES ...
EPOCH_FILES_SMALL_MODEL_BYTES = 4 * 1024 * 1024
EPOCH_FILES_BUDGET_BYTES = 256 * 1024 * 1024
#: ... otherwise this many evenly spaced epochs, the last among them (a small model keeps more: as many
#: as fit in the budget)
EPOCH_FILES_SPACED = 20


# --- configuration ----------------------------------------------------------------------------
_DEFAULTS = default_training()


@dataclass
class TrainConfig:
    """Training settings (the project's "training" section; unknown keys there are ignored)."""

    # the shared defaults live with the project document (core.project.default_training)
    optimizer: str = _DEFAULTS["optimizer"]
    lr: float = _DEFAULTS["lr"]
    weight_decay: float = _DEFAULTS["weight_decay"]
    momentum: float = _DEFAULTS["momentum"]
    batch_size: int = _DEFAULTS["batch_size"]
    epochs: int = _DEFAULTS["epochs"]
    schedule: str = _DEFAULTS["schedule"]
    early_stopping: int = _DEFAULTS["early_stopping"]  # patience in epochs without a better val loss; 0 = off
    seed: int = _DEFAULTS["seed"]
    device: str = _DEFAULTS["device"]
    mixed_precision: bool = _DEFAULTS["mixed_precision"]  # CUDA only; ignored elsewhere
    box_loss: str = "smooth_l1"
    box_weight: float = 5.0  # weight of the box loss against cross-entropy (localization)
    threads: int = 0  # CPU threads for PyTorch; 0 = all cores when the machine is idle, fewer when busy

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainConfig:
        """Build and check a config; a bad value raises UserError with one clear sentence."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in (data or {}).items():
            if key not in known or value is None:
                continue
            default = known[key].default
            try:
                if isinstance(default, bool):
                    if not isinstance(value, (bool, int)):
                        raise ValueError
                    values[key] = bool(value)
                elif isinstance(default, int):
                    if isinstance(value, float) and not value.is_integer():
                        raise ValueError
                    values[key] = int(value)
                elif isinstance(default, float):
                    values[key] = float(value)
                else:
                    values[key] = str(value).lower()
            except (TypeError, ValueError):
                raise UserError(f"The training setting {key} = {value!r} is not a valid {type(default).__name__}.") from None
        config = cls(**values)
        config.validate()
        return config

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"Unknown optimizer {self.optimizer!r}: choose sgd, adam or adamw.")
        if self.schedule not in SCHEDULES:
            raise UserError(f"Unknown learning-rate schedule {self.schedule!r}: choose none, step or cosine.")
        if self.box_loss not in BOX_LOSSES:
            raise UserError(f"Unknown box loss {self.box_loss!r}: choose smooth_l1 or giou.")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise UserError(f"The learning rate must be above 0 and at most 10, not {self.lr}.")
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay <= 1):
            raise UserError(f"The weight decay must be between 0 and 1, not {self.weight_decay}.")
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise UserError(f"The momentum must be at least 0 and below 1, not {self.momentum}.")
        if not 1 <= self.batch_size <= 1_000_000:
            raise UserError(f"The batch size must be at least 1, not {self.batch_size}.")
        if not 1 <= self.epochs <= 100_000:
            raise UserError(f"The number of epochs must be at least 1, not {self.epochs}.")
        if self.early_stopping < 0:
            raise UserError(f"Early stopping patience must be 0 (off) or more epochs, not {self.early_stopping}.")
        if self.threads < 0:
            raise UserError(f"The number of CPU threads must be 0 (automatic) or more, not {self.threads}.")
        if not 0 <= self.seed <= MAX_SEED:  # epoch seeds (seed * 1,000,003 + epoch) must fit torch's 64 bits
            raise UserError(f"The seed must be from 0 to {MAX_SEED:,}, not {self.seed}.")
        if not (math.isfinite(self.box_weight) and self.box_weight >= 0):
            raise UserError(f"The box-loss weight must be 0 or more, not {self.box_weight}.")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise UserError(f"Unknown device {self.device!r}: choose auto, cpu, cuda or mps.")


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
    state: dict[str, Any] = {"last_checkpoint": None}
    threads_before = torch.get_num_threads()
    try:
        yield from _train(spec, data, config, run_path, control, resume, data_config, export, model, state)
    except (UserError, _StopRun) as exc:
        _mark_failed(run_path, str(exc))
        yield Failed(str(exc), str(run_path or ""), state["last_checkpoint"])
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give the memory back so the app can go on
        size = state.get("batch_size", 0)
        msg = (
            f"The {state.get('device', 'GPU')} ran out of memory with batch size {size}; "
            f"try a smaller batch size (for example {max(1, size // 2)}) or a smaller network."
        )
        _mark_failed(run_path, msg)
        yield Failed(msg, str(run_path or ""), state["last_checkpoint"])
    except OSError as exc:  # e.g. the run folder cannot be written (a file in the way, read-only, disk full)
        where = exc.filename or run_path or "the run folder"
        msg = f"Training stopped: cannot use {where} ({exc.strerror or exc})."
        _mark_failed(run_path, msg)
        yield Failed(msg, str(run_path or ""), state["last_checkpoint"])
    except (RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        msg = f"Training stopped with an error: {first}"
        _mark_failed(run_path, msg)
        yield Failed(msg, str(run_path or ""), state["last_checkpoint"])
    finally:
        torch.set_num_threads(threads_before)


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


def _train(spec, data, config, run_path, control, resume, data_config, export, model, state):
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.preprocess import normalize

    cfg = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    cfg.validate()
    spec = load_spec(spec)
    if isinstance(data, dict):
        from cnnstudio.ml.datasets import load_dataset

        data_config = data_config or data
        data = load_dataset(data)
    task = str(spec.get("task", "classification"))
    inp = spec["input"]
    channels, height, width = int(inp["channels"]), int(inp["height"]), int(inp["width"])
    data = data.fit_to(channels, height, width)
    _check_task(task, data)
    if len(data.val_x) == 0:
        raise UserError("The data has no validation images; set a validation fraction above 0.")
    if len(data.train_x) < 2:
        raise UserError("The data has fewer than 2 training images; there is nothing to train on.")

    device = resolve_device(cfg.device)
    state["device"] = {"cuda": "GPU", "mps": "Apple GPU"}.get(device.type, "computer")
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(cfg.threads))
    amp = bool(cfg.mixed_precision and device.type == "cuda")

    spec = dict(spec)
    if not spec.get("classes") or len(spec["classes"]) == len(data.classes):
        spec["classes"] = list(data.classes)  # the exported model names the data's classes
    torch.manual_seed(cfg.seed)
    if model is None:
        from cnnstudio.ml.builder import build_model

        model = build_model(spec)
    num_classes = len(data.classes)
    _check_outputs(model, data, task, num_classes, (channels, height, width))
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise UserError("Every layer of the network is frozen; unfreeze at least one layer to train.")
    optimizer = _make_optimizer(cfg, params)
    scaler = torch.amp.GradScaler("cuda") if amp else None

    pre = preprocess_of(spec)
    augment = None
    if isinstance(data_config, dict) and data_config.get("augment"):
        from cnnstudio.ml.augment import build_augment

        augment = build_augment(data_config["augment"], task)
        augment = augment if augment.active else None
    # augmented training images are normalised per batch, after the augmentation (which works in [0, 1])
    on_device, tensors = _place_data(data, device, lambda x: normalize(x, pre), train_normalised=augment is None)
    batch_norm = _batch_normaliser(pre, channels, device) if augment is not None else None
    aug_gen = torch.Generator(device=device) if augment is not None else None
    train_x, train_y, train_b, val_x, val_y, val_b = tensors
    if task != "localization":  # a classifier trained on a localization set ignores the boxes
        train_b = val_b = None
    n_train, n_val = int(train_x.shape[0]), int(val_x.shape[0])
    bs = min(cfg.batch_size, n_train)
    state["batch_size"] = bs
    batches = math.ceil(n_train / bs)
    if n_train % bs == 1:  # a batch of one breaks batch norm; its image joins the last batch instead
        batches -= 1

    start_epoch, best, history = 1, {"loss": math.inf, "epoch": 0, "since": 0}, []
    if run_path is not None:
        ckpt_dir = run_path / "checkpoints"
        if resume and (ckpt_dir / LAST_CHECKPOINT).is_file():
            payload = load_checkpoint(ckpt_dir / LAST_CHECKPOINT, device)
            model.load_state_dict(payload["model"])
            optimizer.load_state_dict(payload["optimizer"])
            if scaler is not None and payload.get("scaler"):
                scaler.load_state_dict(payload["scaler"])
            start_epoch = int(payload["epoch"]) + 1
            best = {"loss": float(payload["best_val_loss"]), "epoch": int(payload["best_epoch"]),
                    "since": int(payload["epochs_since_best"])}
            history = [r for r in read_history(run_path) if r.get("epoch", 0) < start_epoch]
            state["last_checkpoint"] = str(ckpt_dir / LAST_CHECKPOINT)
        for number, stale in epoch_checkpoints(run_path):  # an earlier run's epochs in this folder
            if number >= start_epoch:
                with contextlib.suppress(OSError):
                    stale.unlink()
        _write_run_files(run_path, spec, cfg, data, data_config, device, amp, resume)
    weights_bytes = state_dict_bytes(model)

    yield Started(str(run_path or ""), str(device), cfg.epochs, start_epoch, batches, n_train, n_val, amp)

    per_epoch = n_train  # a tail of one image joins the epoch's last batch (see above)
    images_total = max(0, cfg.epochs - start_epoch + 1) * per_epoch
    images_done = 0
    trained_seconds = 0.0
    status = "completed"
    perm_gen = torch.Generator()
    autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if amp else contextlib.nullcontext
    box_loss = _box_loss_fn(cfg.box_loss)
    last_row: dict = history[-1] if history else {}

    for epoch in range(start_epoch, cfg.epochs + 1):
        if control.cancelled:
            status = "cancelled"
            break
        lr = lr_at(cfg, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        epoch_seed = cfg.seed * 1_000_003 + epoch
        perm_gen.manual_seed(epoch_seed)
        torch.manual_seed(epoch_seed)  # dropout noise of this epoch
        if aug_gen is not None:
            aug_gen.manual_seed(epoch_seed)
        perm = torch.randperm(n_train, generator=perm_gen)
        if on_device:
            perm = perm.to(device, non_blocking=True)
        model.train()
        loss_sum = torch.zeros((), device=device)
        predicted = torch.empty(n_train, dtype=torch.int64, device=device)  # filled batch by batch
        seen = 0
        t_start = time.perf_counter()
        paused = 0.0
        for b in range(batches):
            idx = perm[b * bs:(b + 1) * bs] if b < batches - 1 else perm[b * bs:]
            xb, yb = train_x[idx], train_y[idx]
            bb = train_b[idx] if train_b is not None else None
            if not on_device:
                xb, yb = xb.pin_memory().to(device, non_blocking=True), yb.to(device, non_blocking=True)
                bb = bb.pin_memory().to(device, non_blocking=True) if bb is not None else None
            if augment is not None:
                xb, bb = augment(xb, bb, aug_gen)
                xb = batch_norm(xb)
            with autocast():
                out = model(xb)
                logits, boxes = out if isinstance(out, tuple) else (out, None)
                loss = F.cross_entropy(logits, yb)
                if bb is not None:
                    loss = loss + cfg.box_weight * box_loss(boxes.float(), bb, "mean")
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            n_b = int(idx.shape[0])
            seen += n_b
            loss_sum.add_(loss.detach(), alpha=n_b)  # one kernel, no wait for the device
            torch.argmax(logits.detach(), 1, out=predicted[seen - n_b:seen])
            images_done += n_b
            if (b + 1) % NAN_CHECK_EVERY == 0 and not bool(torch.isfinite(loss_sum)):
                raise _StopRun(_nan_message(epoch, state))
            if control.paused:
                paused += control.wait_while_paused()
            if control.cancelled:
                status = "cancelled"
                break
            yield BatchEnd(epoch, cfg.epochs, b + 1, batches, images_done, images_total,
                           trained_seconds + time.perf_counter() - t_start - paused)
        if status == "cancelled":
            break
        train_loss = float(loss_sum) / max(1, seen)  # waits for the device once per epoch
        train_seconds = time.perf_counter() - t_start - paused
        if not math.isfinite(train_loss):
            raise _StopRun(_nan_message(epoch, state))
        labels = train_y[perm[:seen]] if on_device else train_y[perm[:seen]].to(device)
        train_accuracy = float((predicted[:seen] == labels).sum()) / max(1, seen)

        ev = _evaluate(model, val_x, val_y, val_b, max(bs, 256), on_device, device, autocast, cfg,
                       box_loss, num_classes)
        if not math.isfinite(ev["loss"]):
            raise _StopRun(_nan_message(epoch, state))
        seconds = time.perf_counter() - t_start - paused
        trained_seconds += seconds
        row = {
            "epoch": epoch,
            "train_loss": round(train_loss, 6),
            "train_accuracy": round(train_accuracy, 6),
            "val_loss": round(ev["loss"], 6),
            "val_accuracy": round(ev["accuracy"], 6),
            "lr": lr,
            "seconds": round(seconds, 4),
            "images_per_second": round(seen / max(train_seconds, 1e-9), 1),
        }
        if task == "localization":
            row["val_iou"] = round(ev["iou"], 6)
        history.append(row)
        last_row = row
        improved = ev["loss"] < best["loss"]
        if improved:
            best = {"loss": ev["loss"], "epoch": epoch, "since": 0}
        else:
            best["since"] += 1
        yield EpochEnd(epoch, cfg.epochs, dict(row), tuple(ev["per_class"]), ev["confusion"],
                       ev["predictions"], ev["boxes"], improved)
        stop_early = bool(cfg.early_stopping and best["since"] >= cfg.early_stopping and epoch < cfg.epochs)
        if run_path is not None:
            ckpt_dir = run_path / "checkpoints"
            last_path = ckpt_dir / LAST_CHECKPOINT
            save_checkpoint(last_path, {
                "format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict() if scaler else {},
                "best_val_loss": best["loss"], "best_epoch": best["epoch"], "epochs_since_best": best["since"],
            })
            state["last_checkpoint"] = str(last_path)
            yield CheckpointSaved(epoch, str(last_path), "last")
            if improved:
                best_path = ckpt_dir / BEST_CHECKPOINT
                save_checkpoint(best_path, {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch,
                                            "model": model.state_dict()})
                yield CheckpointSaved(epoch, str(best_path), "best")
            if stop_early or keeps_epoch_file(epoch, cfg.epochs, weights_bytes):
                epoch_path = ckpt_dir / epoch_checkpoint_name(epoch)
                save_checkpoint(epoch_path, {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch,
                                             "model": _cpu_state(model)})
                yield CheckpointSaved(epoch, str(epoch_path), "epoch")
            _write_history(run_path, history)
            _write_summary(run_path, "running", history, best["epoch"], ev)
        if stop_early:
            status = "early_stopped"
            break

    best_row = next((r for r in history if r["epoch"] == best["epoch"]), last_row)
    onnx_path = None
    message = ""
    if status == "cancelled":
        message = (f"Cancelled after epoch {last_row['epoch']}; resume to continue." if last_row
                   else "Cancelled before the first epoch ended.")
    elif status == "early_stopped":
        message = f"Stopped early: no better validation loss for {cfg.early_stopping} epochs."
    if run_path is not None:
        if export and status != "cancelled" and history:
            onnx_path, export_problem = _export(model, spec, run_path / "model.onnx")
            if export_problem:
                message = (message + " " + export_problem).strip()
        _write_summary(run_path, status, history, best["epoch"], None, message)
    yield Finished(status, dict(last_row), dict(best_row), str(run_path or ""), onnx_path, message)


# --- pieces ---------------------------------------------------------------------------------
def _check_task(task: str, data) -> None:
    if task == "localization" and data.task != "localization":
        raise UserError("This network predicts boxes (localization), but the data has no boxes; "
                        "choose a localization dataset such as shapes or a YOLO folder.")
    if task == "classification" and data.task == "localization":
        return  # a classifier may train on the class labels of a localization set
    if task not in ("classification", "localization"):
        raise UserError(f"Unknown task {task!r} in the network; use classification or localization.")


def _check_outputs(model, data, task: str, num_classes: int, shape) -> None:
    model.eval()
    try:
        with torch.no_grad():
            out = model(data.train_x[:2])
    except RuntimeError as exc:
        first = (str(exc).strip().splitlines() or ["error"])[0][:200]
        raise UserError(f"The network cannot run on {shape[0]}x{shape[1]}x{shape[2]} images: {first}") from None
    logits = out[0] if isinstance(out, tuple) else out
    if task == "localization" and not isinstance(out, tuple):
        raise UserError("The network is set to localization but has no box head.")
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        got = "x".join(str(s) for s in logits.shape[1:])
        raise UserError(
            f"The network ends in {got} outputs but the data has {num_classes} classes; "
            f"make the last layer output {num_classes} values (e.g. linear with out_features {num_classes})."
        )


def _make_optimizer(cfg: TrainConfig, params):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def preprocess_of(spec: dict):
    """The spec's preprocessing (mean/std the trainer applies once to the whole dataset)."""
    from cnnstudio.core.model_meta import Preprocess

    return Preprocess.from_dict(spec.get("preprocess"), int(spec["input"]["channels"]))


def _batch_normaliser(pre, channels: int, device):
    """``(x - mean) / std`` with the constants on ``device`` (for augmented batches)."""
    mean = torch.tensor([float(v) for v in pre.mean], device=device).view(1, -1, 1, 1).expand(1, channels, 1, 1)
    std = torch.tensor([float(v) for v in pre.std], device=device).view(1, -1, 1, 1).expand(1, channels, 1, 1)
    return lambda x: (x - mean) / std


def _place_data(data, device, norm, train_normalised: bool = True):
    """Normalise once and move everything to ``device``; fall back to pinned CPU memory if it won't fit."""
    train_x = norm(data.train_x) if train_normalised else data.train_x
    tensors = [train_x.contiguous(), data.train_y, data.train_boxes,
               norm(data.val_x).contiguous(), data.val_y, data.val_boxes]
    if device.type == "cpu":
        return True, tensors
    try:
        moved = [None if t is None else _pin(t, device).to(device, non_blocking=True) for t in tensors]
        return True, moved
    except torch.OutOfMemoryError:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return False, tensors


def _pin(t: torch.Tensor, device) -> torch.Tensor:
    return t.pin_memory() if device.type == "cuda" else t


def _box_loss_fn(name: str):
    if name == "giou":
        return M.giou_loss

    def smooth_l1(pred, target, reduction):
        if reduction == "sum":
            return F.smooth_l1_loss(pred, target, reduction="sum", beta=0.05) / 4.0
        return F.smooth_l1_loss(pred, target, reduction="mean", beta=0.05)

    return smooth_l1


def _evaluate(model, x, y, boxes, batch, on_device, device, autocast, cfg, box_loss, num_classes) -> dict:
    model.eval()
    loss_sum = torch.zeros((), device=device)
    preds, pred_boxes = [], []
    with torch.inference_mode():
        for start in range(0, int(x.shape[0]), batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            bb = boxes[start:start + batch] if boxes is not None else None
            if not on_device:
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                bb = bb.to(device, non_blocking=True) if bb is not None else None
            with autocast():
                out = model(xb)
            logits, pb = out if isinstance(out, tuple) else (out, None)
            logits = logits.float()
            loss_sum += F.cross_entropy(logits, yb, reduction="sum")
            if bb is not None:
                loss_sum += cfg.box_weight * box_loss(pb.float(), bb, "sum")
                pred_boxes.append(pb.float())
            preds.append(logits.argmax(1))
        pred = torch.cat(preds)
        y_all = y if on_device else y.to(device)
        confusion = M.confusion_matrix(y_all, pred, num_classes).cpu()
        result = {
            "loss": float(loss_sum) / max(1, int(x.shape[0])),
            "accuracy": M.accuracy_from_confusion(confusion),
            "per_class": M.per_class_accuracy(confusion),
            "confusion": confusion.numpy(),
            "predictions": pred.cpu().numpy(),
            "boxes": None,
            "iou": None,
        }
        if pred_boxes:
            pb_all = torch.cat(pred_boxes)
            b_all = boxes if on_device else boxes.to(device)
            result["iou"] = float(M.box_iou(pb_all, b_all).mean())
            result["boxes"] = pb_all.cpu().numpy()
    return result


def _nan_message(epoch: int, state: dict) -> str:
    keep = (" The last good checkpoint is kept." if state.get("last_checkpoint")
            else " No epoch finished, so there is no checkpoint.")
    return (f"The loss became NaN or infinite in epoch {epoch}, so training stopped; "
            f"try a lower learning rate.{keep}")


def _export(model, spec: dict, path: Path) -> tuple[str | None, str]:
    from cnnstudio.ml.export import export_onnx

    model.eval()
    model.to("cpu").float()
    try:
        return str(export_onnx(model, spec, path)), ""
    except UserError as exc:
        return None, f"The ONNX export failed: {exc}"
    except Exception as exc:  # an exporter problem must not lose the finished run
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return None, f"The ONNX export failed: {first}"


# --- run folder files ---------------------------------------------------------------------------
def save_checkpoint(path: Path, payload: dict) -> None:
    """torch.save to memory, then an atomic write (a crash never leaves half a checkpoint)."""
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def _cpu_state(model: torch.nn.Module) -> dict:
    """The model's state_dict as CPU tensors (an epoch file then loads on any machine, GPU or not)."""
    state = model.state_dict()
    moved = type(state)((k, v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in state.items())
    if hasattr(state, "_metadata"):  # the modules' state versions, as model.state_dict() carries them
        moved._metadata = state._metadata
    return moved


def load_checkpoint(path: str | Path, device: Any = "cpu") -> dict:
    """Load a checkpoint without running pickled code (``weights_only=True``)."""
    p = Path(path)
    try:
        payload = torch.load(p, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise UserError(f"The checkpoint {p} does not exist.") from None
    except Exception:
        raise UserError(f"The checkpoint {p} is corrupt or not a CNN Studio checkpoint.") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise UserError(f"The checkpoint {p} is not a CNN Studio checkpoint.")
    return payload


def _write_history(run_path: Path, history: list[dict]) -> None:
    atomic_write_text(run_path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))


def _write_summary(run_path: Path, status: str, history: list[dict], best_epoch: int, ev: dict | None,
                   message: str = "") -> None:
    path = run_path / "metrics.json"
    previous = {}
    if ev is None and path.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            previous = json.loads(path.read_text(encoding="utf-8"))
    final = history[-1] if history else {}
    best = next((r for r in history if r["epoch"] == best_epoch), final)
    summary = {
        "format": "cnnstudio-run-metrics", "version": 1, "status": status, "message": message,
        "epochs_done": final.get("epoch", 0), "best_epoch": best.get("epoch", 0),
        "final": final, "best": best,
        "training_seconds": round(sum(r.get("seconds", 0.0) for r in history), 3),
        "updated": _now(),
    }
    if ev is not None:
        summary["per_class_accuracy"] = list(ev["per_class"])
        summary["confusion"] = ev["confusion"].tolist()
    else:
        for key in ("per_class_accuracy", "confusion"):
            if key in previous:
                summary[key] = previous[key]
    atomic_write_json(path, summary)


def _mark_failed(run_path: Path | None, message: str) -> None:
    if run_path is None or not (run_path / "config.json").is_file():
        return
    history = read_history(run_path)
    best_epoch = 0
    summary_path = run_path / "metrics.json"
    with contextlib.suppress(OSError, json.JSONDecodeError):
        best_epoch = int(json.loads(summary_path.read_text(encoding="utf-8")).get("best_epoch", 0))
    with contextlib.suppress(OSError):  # a folder that cannot be written: the Failed event still says why
        _write_summary(run_path, "failed", history, best_epoch, None, message)


def _write_run_files(run_path: Path, spec, cfg, data, data_config, device, amp, resume) -> None:
    from cnnstudio.core.spec import save_spec

    run_path.mkdir(parents=True, exist_ok=True)
    config_path = run_path / "config.json"
    created = _now()
    if resume and config_path.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            created = json.loads(config_path.read_text(encoding="utf-8")).get("created", created)
    atomic_write_json(config_path, {
        "format": RUN_FORMAT, "version": RUN_VERSION,
        "name": run_path.name, "created": created, "updated": _now(),
        "network": str(spec.get("name", "")), "task": str(spec.get("task", "classification")),
        "training": cfg.to_dict(), "data": data_config,
        "data_summary": {"name": getattr(data, "name", ""), "classes": list(data.classes),
                         "train": int(len(data.train_x)), "val": int(len(data.val_x))},
        "device": str(device), "mixed_precision_active": amp, "cpu_threads": torch.get_num_threads(),
    })
    save_spec(spec, run_path / "spec.json")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = [
    "BatchEnd", "CheckpointSaved", "EpochEnd", "Failed", "Finished", "Started", "TrainConfig",
    "TrainControl", "TrainEvent", "epoch_files_kept", "keeps_epoch_file", "load_checkpoint", "lr_at",
    "read_history", "save_checkpoint", "state_dict_bytes", "train",
]
