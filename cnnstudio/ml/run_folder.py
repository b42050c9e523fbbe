"""The run folder: the one module that reads and writes its files (versioned formats).

Importing it does not import torch (the GUI lists runs without it); checkpoints load and save with a
lazy torch import. A run folder holds::

    config.json        cnnstudio-run: training settings, data settings, device, creation time
    spec.json          the network spec trained (class names taken from the data)
    metrics.jsonl      one JSON object per epoch (epoch, train_loss, val_loss, val_accuracy, ...)
    metrics.json       cnnstudio-run-metrics: status, final and best epoch rows, last confusion matrix
    checkpoints/       cnnstudio-checkpoint files: last.pt (resumable: weights, optimizer, epoch),
                       best.pt (weights) and epoch{N}.pt (weights after epoch N; every epoch, or evenly
                       spaced ones for a big model or a long run: cnnstudio.ml.trainer.epoch_files_kept)
    model.onnx         exported when the run completes

Each JSON format and the checkpoint payload carry a format name and version; older versions are
brought up to date by migrations registered with :func:`cnnstudio.core.formats.register_migration`
(none yet: every format is at version 1), newer ones are refused with a clear sentence.
:func:`load_checkpoint` is the one checkpoint loader (``weights_only=True``: a file cannot run code).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import FormatError, UserError, first_line
from cnnstudio.core.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from cnnstudio.core.formats import read_json, upgrade

RUN_FORMAT = "cnnstudio-run"
RUN_VERSION = 1
METRICS_FORMAT = "cnnstudio-run-metrics"
METRICS_VERSION = 1
CHECKPOINT_FORMAT = "cnnstudio-checkpoint"
CHECKPOINT_VERSION = 1
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
_EPOCH_CHECKPOINT = re.compile(r"epoch(\d+)\.pt")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- checkpoint files ------------------------------------------------------------------------------
def epoch_checkpoint_name(epoch: int) -> str:
    """The file name of the weights after 1-based ``epoch``: ``epoch{N}.pt`` (no zero padding)."""
    return f"epoch{int(epoch)}.pt"


def epoch_of_checkpoint(path: str | Path) -> int | None:
    """N of a file named ``epoch{N}.pt``; None for any other name (``last.pt``, ``best.pt``, ...)."""
    match = _EPOCH_CHECKPOINT.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


def epoch_in_name(path: str | Path, default: int) -> int:
    """The last number in a checkpoint file name ("epoch_003.pt" -> 3), else ``default``."""
    numbers = re.findall(r"\d+", Path(path).stem)
    return int(numbers[-1]) if numbers else default


def order_checkpoints(paths: Iterable[str | Path]) -> list[Path]:
    """Checkpoint files in a stable, meaningful order: ``epoch{N}.pt`` by N (1, 2, ..., 10, not 1, 10,
    2), then ``best.pt``, ``last.pt``, then any other file by name."""
    def key(path: Path) -> tuple:
        epoch = epoch_of_checkpoint(path)
        if epoch is not None:
            return (0, epoch, path.name)
        rank = {BEST_CHECKPOINT: 1, LAST_CHECKPOINT: 2}.get(path.name, 3)
        return (rank, 0, path.name)

    return sorted((Path(p) for p in paths), key=key)


def checkpoint_files(run_dir: str | Path) -> list[Path]:
    """The run's ``checkpoints/*.pt`` files in :func:`order_checkpoints` order."""
    folder = Path(run_dir) / "checkpoints"
    return order_checkpoints(p for p in folder.glob("*.pt") if p.is_file()) if folder.is_dir() else []


def epoch_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(N, path)`` of the run's ``checkpoints/epoch{N}.pt`` files, by N."""
    found = [(epoch_of_checkpoint(p), p) for p in checkpoint_files(run_dir)]
    return sorted((n, p) for n, p in found if n is not None)


def checkpoint_path(run_path: str | Path, checkpoint: str | Path | None = None) -> Path:
    """The file of ``checkpoint``: ``"last"`` (default), ``"best"``, a name in ``checkpoints/`` or a path."""
    run_path = Path(run_path)
    folder = run_path / "checkpoints"
    if checkpoint is None or str(checkpoint) == "last":
        candidate = folder / LAST_CHECKPOINT
    elif str(checkpoint) == "best":
        candidate = folder / BEST_CHECKPOINT
    else:
        given = Path(checkpoint)
        candidate = given if given.is_absolute() or given.exists() else folder / given
    if not candidate.is_file():
        raise UserError(f"The run {run_path.name} has no checkpoint {candidate.name}; was an epoch finished?")
    return candidate


def latest_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint holding a run's final weights: ``checkpoints/last.pt`` when it exists.

    Modification times say nothing about which weights are final (best.pt and epoch files are written
    too), so ``last.pt`` is chosen by name; without it (a folder put together by hand) the highest
    ``epoch{N}.pt``, else the newest ``*.pt`` file.
    """
    folder = Path(run_dir) / "checkpoints"
    if (folder / LAST_CHECKPOINT).is_file():
        return folder / LAST_CHECKPOINT
    by_epoch = epoch_checkpoints(run_dir)
    if by_epoch:
        return by_epoch[-1][1]
    files = checkpoint_files(run_dir)
    if not files:
        raise UserError(f"The run folder {run_dir} has no checkpoints (checkpoints/*.pt); was it trained?")
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def save_checkpoint(path: Path, payload: dict) -> None:
    """torch.save to memory, then an atomic write (a crash never leaves half a checkpoint)."""
    import torch

    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **payload}, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_checkpoint(path: str | Path, device: Any = "cpu") -> dict:
    """The payload of a checkpoint with its weights under ``"model"``, loaded with ``weights_only=True``.

    Takes the trainer's files (``model``, ``epoch``, optimizer state ...) and plain ``state_dict``
    files (returned as ``{"model": state_dict}``); anything else is a UserError sentence.
    """
    import pickle

    import torch

    p = Path(path)
    try:
        payload = torch.load(p, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise UserError(f"The checkpoint {p} does not exist.") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, AttributeError) as exc:
        first = first_line(exc, 160)
        raise UserError(f"The checkpoint {p} is corrupt or cannot be read ({first}).") from None
    if isinstance(payload, dict) and not isinstance(payload.get("model"), dict):
        if isinstance(payload.get("state_dict"), dict):  # another tool's checkpoint (Lightning, timm ...)
            payload = {**payload, "model": payload["state_dict"]}
        elif payload and all(isinstance(v, torch.Tensor) for v in payload.values()):  # a plain state_dict
            payload = {"model": payload}
    weights = payload.get("model") if isinstance(payload, dict) else None
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise UserError(f"The checkpoint {p} holds no model weights (a state dict).")
    if payload.get("format") == CHECKPOINT_FORMAT:  # a newer version is refused, an older one migrated
        payload = upgrade(payload, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, source=f"The checkpoint {p}")
    return payload


# --- metrics and config files ------------------------------------------------------------------------
def read_history(run_path: str | Path) -> list[dict]:
    """The rows of ``metrics.jsonl`` (bad lines are skipped)."""
    path = Path(run_path) / "metrics.jsonl"
    rows: list[dict] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return rows
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def write_history(run_path: Path, history: list[dict]) -> None:
    atomic_write_text(run_path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))


def read_summary(run_path: str | Path) -> dict:
    """``metrics.json`` brought to the current version; {} when missing or unreadable (a run killed early).

    One written by a newer CNN Studio is a FormatError (never read with loss)."""
    path = Path(run_path) / "metrics.json"
    if not path.is_file():
        return {}
    try:
        data = read_json(path, "run metrics")
    except FormatError:
        return {}
    return upgrade(data, METRICS_FORMAT, METRICS_VERSION, source=f"The run metrics {path}")


def write_summary(run_path: Path, status: str, history: list[dict], best_epoch: int, ev: dict | None,
                  message: str = "") -> None:
    """``metrics.json``: status, final and best rows; the confusion of ``ev`` (else the previous one)."""
    previous = read_summary(run_path) if ev is None else {}
    final = history[-1] if history else {}
    best = next((r for r in history if r["epoch"] == best_epoch), final)
    summary = {
        "format": METRICS_FORMAT, "version": METRICS_VERSION, "status": status, "message": message,
        "epochs_done": final.get("epoch", 0), "best_epoch": best.get("epoch", 0),
        "final": final, "best": best,
        "training_seconds": round(sum(r.get("seconds", 0.0) for r in history), 3),
        "updated": now(),
    }
    if ev is not None:
        summary["per_class_accuracy"] = list(ev["per_class"])
        summary["confusion"] = ev["confusion"].tolist()
    else:
        for key in ("per_class_accuracy", "confusion"):
            if key in previous:
                summary[key] = previous[key]
    atomic_write_json(run_path / "metrics.json", summary)


def mark_failed(run_path: Path | None, message: str) -> None:
    """Record a failed run in ``metrics.json`` (a folder that cannot be written is left as it is)."""
    if run_path is None or not (run_path / "config.json").is_file():
        return
    with contextlib.suppress(OSError, UserError, TypeError, ValueError):  # the Failed event still says why
        best_epoch = int(read_summary(run_path).get("best_epoch", 0) or 0)
        write_summary(run_path, "failed", read_history(run_path), best_epoch, None, message)


def write_config(run_path: Path, spec: dict, values: dict, resume: bool) -> None:
    """``config.json`` (``values``: training, data, data_summary, device ...) and ``spec.json``."""
    from cnnstudio.core.spec import save_spec

    run_path.mkdir(parents=True, exist_ok=True)
    config_path = run_path / "config.json"
    created = now()
    if resume and config_path.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            created = json.loads(config_path.read_text(encoding="utf-8")).get("created", created)
    atomic_write_json(config_path, {
        "format": RUN_FORMAT, "version": RUN_VERSION, "name": run_path.name, "created": created,
        "updated": now(), "network": str(spec.get("name", "")), "task": str(spec.get("task", "classification")),
        **values,
    })
    save_spec(spec, run_path / "spec.json")


def remove_epoch_files_from(run_path: Path, start_epoch: int) -> None:
    """Delete ``epoch{N}.pt`` files with N >= ``start_epoch`` (left by an earlier run in this folder)."""
    for number, stale in epoch_checkpoints(run_path):
        if number >= start_epoch:
            with contextlib.suppress(OSError):
                stale.unlink()


# --- reading a run -----------------------------------------------------------------------------------
@dataclass
class RunInfo:
    """What a run folder says about its run."""

    path: Path
    name: str
    spec: dict
    config: dict  # the whole config.json
    history: list[dict] = field(default_factory=list)  # metrics.jsonl rows
    summary: dict = field(default_factory=dict)  # metrics.json
    checkpoints: list[Path] = field(default_factory=list)  # see order_checkpoints

    @property
    def status(self) -> str:
        """completed, early_stopped, cancelled, failed, or running (also a run that was killed)."""
        return str(self.summary.get("status", "running" if self.history else "new"))

    @property
    def final(self) -> dict:
        return dict(self.summary.get("final") or (self.history[-1] if self.history else {}))

    @property
    def best(self) -> dict:
        return dict(self.summary.get("best") or self.final)

    @property
    def training(self) -> dict:
        return dict(self.config.get("training") or {})

    @property
    def epochs_done(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0

    @property
    def onnx_path(self) -> Path | None:
        path = self.path / "model.onnx"
        return path if path.is_file() else None

    @property
    def created(self) -> str:
        return str(self.config.get("created", ""))

    @property
    def resumable(self) -> bool:
        """A checkpoint to continue from and epochs left to train."""
        epochs = int(self.training.get("epochs", 0))
        return (self.path / "checkpoints" / LAST_CHECKPOINT).is_file() and self.epochs_done < epochs

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """(epochs, values) of one metric for plotting (rows without it are skipped)."""
        xs, ys = [], []
        for row in self.history:
            value = row.get(key)
            if isinstance(value, (int, float)):
                xs.append(int(row.get("epoch", len(xs) + 1)))
                ys.append(float(value))
        return xs, ys


def is_run_dir(path: str | Path) -> bool:
    return (Path(path) / "config.json").is_file() and (Path(path) / "spec.json").is_file()


def load_run(run_dir: str | Path) -> RunInfo:
    """Read a run folder; a folder that is not a run, or a corrupt config, is a UserError."""
    from cnnstudio.core.spec import load_spec

    path = Path(run_dir)
    if not path.is_dir():
        raise UserError(f"The run folder {path} does not exist.")
    if not is_run_dir(path):
        raise UserError(f"The folder {path} is not a training run (it has no config.json and spec.json).")
    config = upgrade(read_json(path / "config.json", "run config"), RUN_FORMAT, RUN_VERSION,
                     source=f"The run config {path / 'config.json'}")
    spec = load_spec(path / "spec.json")
    return RunInfo(path, path.name, spec, config, read_history(path), read_summary(path), checkpoint_files(path))


def list_runs(root: str | Path) -> list[RunInfo]:
    """Every readable run folder directly under ``root``, oldest first (unreadable ones are skipped)."""
    folder = Path(root)
    if not folder.is_dir():
        return []
    runs = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and is_run_dir(child):
            try:
                runs.append(load_run(child))
            except UserError:
                continue
    runs.sort(key=lambda r: (r.created, r.name))
    return runs


def new_run_dir(root: str | Path, name: str) -> Path:
    """A fresh folder name under ``root``: ``<name>-YYYYmmdd-HHMMSS`` (with a counter if taken)."""
    base = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower()).strip("-") or "run"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = Path(root) / f"{base}-{stamp}"
    n = 2
    while candidate.exists():
        candidate = Path(root) / f"{base}-{stamp}-{n}"
        n += 1
    return candidate
