"""Training run folders: read one back, rebuild its model, list a project's runs, resume a cancelled one.

Importing this module does not import torch (the GUI lists runs without it).
A run folder holds::

    config.json        format, training settings, data settings, device, creation time
    spec.json          the network spec trained (class names taken from the data)
    metrics.jsonl      one JSON object per epoch (epoch, train_loss, val_loss, val_accuracy, ...)
    metrics.json       status, final and best epoch rows, last confusion matrix
    checkpoints/       last.pt (resumable: weights, optimizer, epoch), best.pt (weights) and
                       epoch{N}.pt (weights after epoch N; every epoch, or evenly spaced ones for a
                       big model or a long run: see cnnstudio.ml.trainer.epoch_files_kept)
    model.onnx         exported when the run completes
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.core.formats import read_json, upgrade

RUN_FORMAT = "cnnstudio-run"
RUN_VERSION = 1
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
_EPOCH_CHECKPOINT = re.compile(r"epoch(\d+)\.pt")


def epoch_checkpoint_name(epoch: int) -> str:
    """The file name of the weights after 1-based ``epoch``: ``epoch{N}.pt`` (no zero padding)."""
    return f"epoch{int(epoch)}.pt"


def epoch_of_checkpoint(path: str | Path) -> int | None:
    """N of a file named ``epoch{N}.pt``; None for any other name (``last.pt``, ``best.pt``, ...)."""
    match = _EPOCH_CHECKPOINT.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


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


def epoch_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(N, path)`` of the run's ``checkpoints/epoch{N}.pt`` files, by N."""
    folder = Path(run_dir) / "checkpoints"
    found = []
    if folder.is_dir():
        for path in folder.glob("epoch*.pt"):
            epoch = epoch_of_checkpoint(path)
            if epoch is not None and path.is_file():
                found.append((epoch, path))
    return sorted(found)


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
    summary: dict[str, Any] = {}
    if (path / "metrics.json").is_file():
        try:
            loaded = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else {}
        except (OSError, json.JSONDecodeError):
            summary = {}
    ckpt_dir = path / "checkpoints"
    checkpoints = order_checkpoints(ckpt_dir.glob("*.pt")) if ckpt_dir.is_dir() else []
    return RunInfo(path, path.name, spec, config, read_history(path), summary, checkpoints)


def load_run_model(run_dir: str | Path, checkpoint: str | Path | None = None):
    """``(spec, model)`` of a run in eval mode, with the weights of ``checkpoint``.

    ``checkpoint`` is ``"last"`` (the default; the last good epoch), ``"best"``, a file name in
    ``checkpoints/`` (such as ``"epoch3.pt"``) or a path.
    """
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import load_checkpoint

    info = load_run(run_dir)
    path = _checkpoint_path(info.path, checkpoint)
    payload = load_checkpoint(path)
    model = build_model(info.spec)
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        first = (str(exc).strip().splitlines() or ["mismatch"])[0][:200]
        raise UserError(f"The checkpoint {path.name} does not fit the run's network ({first}).") from None
    return info.spec, model.eval()


def _checkpoint_path(run_path: Path, checkpoint: str | Path | None) -> Path:
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


def resume_run(run_dir: str | Path, control: Any = None, epochs: int | None = None,
               data: Any = None, threads: int | None = None) -> Iterator[Any]:
    """Continue a cancelled (or interrupted) run where its last checkpoint left off.

    The data is loaded again from the run's data settings unless ``data`` (a DatasetBundle) is given;
    ``epochs`` raises the run's total number of epochs.
    """
    from cnnstudio.ml.trainer import TrainConfig, train

    info = load_run(run_dir)
    if not (info.path / "checkpoints" / LAST_CHECKPOINT).is_file():
        raise UserError(f"The run {info.name} has no checkpoint to resume from; start it again instead.")
    config = TrainConfig.from_dict(info.training)
    if epochs is not None:
        config.epochs = int(epochs)
    if threads is not None:
        config.threads = int(threads)
    config.validate()
    data_config = info.config.get("data")
    if data is None:
        if not isinstance(data_config, dict):
            raise UserError(f"The run {info.name} does not record its data settings, so it cannot be resumed.")
        data = data_config
    return train(info.spec, data, config, info.path, control, resume=True, data_config=data_config)
