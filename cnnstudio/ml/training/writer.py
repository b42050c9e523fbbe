"""The run writer: everything a training run leaves in its folder (only one process writes it).

config.json and spec.json at the start, then per epoch the checkpoints (last.pt, best.pt when the
validation loss improved, epoch{N}.pt when planned), metrics.jsonl and metrics.json, and at the end
the status and model.onnx. The file formats are :mod:`cnnstudio.ml.run_folder`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from cnnstudio.core.errors import UserError, first_line
from cnnstudio.ml import run_folder as rf
from cnnstudio.ml.train_events import CheckpointSaved


def cpu_state(model: torch.nn.Module) -> dict:
    """The model's state_dict as CPU tensors (an epoch file then loads on any machine, GPU or not)."""
    state = model.state_dict()
    moved = type(state)((k, v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in state.items())
    if hasattr(state, "_metadata"):  # the modules' state versions, as model.state_dict() carries them
        moved._metadata = state._metadata
    return moved


def export_model(model: torch.nn.Module, spec: dict, path: Path) -> tuple[str | None, str]:
    """``(onnx path, "")``, or ``(None, why)``: a failed export must not lose the finished run."""
    from cnnstudio.ml.export import export_onnx

    model.eval()
    model.to("cpu").float()
    try:
        return str(export_onnx(model, spec, path)), ""
    except UserError as exc:
        return None, f"The ONNX export failed: {exc}"
    except Exception as exc:  # an exporter problem must not lose the finished run
        first = first_line(exc)
        return None, f"The ONNX export failed: {first}"


class RunWriter:
    """Writes one run folder; ``last_checkpoint`` is the newest resumable checkpoint written or found."""

    def __init__(self, run_path: Path):
        self.path = Path(run_path)
        self.ckpt_dir = self.path / "checkpoints"
        self.last_checkpoint: str | None = None

    def resume_payload(self, device) -> dict | None:
        """The payload of ``last.pt`` to continue from, or None when there is none."""
        last = self.ckpt_dir / rf.LAST_CHECKPOINT
        if not last.is_file():
            return None
        payload = rf.load_checkpoint(last, device)
        self.last_checkpoint = str(last)
        return payload

    def start(self, spec: dict, values: dict, start_epoch: int, resume: bool) -> None:
        """Remove an earlier run's epoch files from ``start_epoch`` on; write config.json and spec.json."""
        rf.remove_epoch_files_from(self.path, start_epoch)
        rf.write_config(self.path, spec, values, resume)

    def end_epoch(self, epoch: int, model, resumable: dict, improved: bool, keep_epoch_file: bool,
                  history: list[dict], best_epoch: int, ev: dict) -> Iterator[CheckpointSaved]:
        """The epoch's checkpoints (``resumable``: optimizer state and best-so-far) and metrics files."""
        last = self.ckpt_dir / rf.LAST_CHECKPOINT
        rf.save_checkpoint(last, {"epoch": epoch, "model": model.state_dict(), **resumable})
        self.last_checkpoint = str(last)
        yield CheckpointSaved(epoch, str(last), "last")
        if improved:
            best = self.ckpt_dir / rf.BEST_CHECKPOINT
            rf.save_checkpoint(best, {"epoch": epoch, "model": model.state_dict()})
            yield CheckpointSaved(epoch, str(best), "best")
        if keep_epoch_file:
            path = self.ckpt_dir / rf.epoch_checkpoint_name(epoch)
            rf.save_checkpoint(path, {"epoch": epoch, "model": cpu_state(model)})
            yield CheckpointSaved(epoch, str(path), "epoch")
        rf.write_history(self.path, history)
        rf.write_summary(self.path, "running", history, best_epoch, ev)

    def finish(self, status: str, history: list[dict], best_epoch: int, message: str,
               model=None, spec: dict | None = None) -> tuple[str | None, str]:
        """Export ``model`` (when given) and record the final status; returns (onnx path, message)."""
        onnx_path = None
        if model is not None and spec is not None:
            onnx_path, problem = export_model(model, spec, self.path / "model.onnx")
            message = (message + " " + problem).strip() if problem else message
        rf.write_summary(self.path, status, history, best_epoch, None, message)
        return onnx_path, message


def run_values(cfg: Any, data: Any, data_config: Any, device, amp: bool, feed: Any = None) -> dict:
    """config.json's entries about this run: settings, data, device (and the processes of a DDP run)."""
    shard = getattr(feed, "shard", None)
    if shard is not None and shard.active:
        return {**run_values(cfg, data, data_config, device, amp),
                "distributed": {"processes": shard.world, "backend": shard.backend,
                                "batch_per_process": feed.batch_size}}
    return {
        "training": cfg.to_dict(), "data": data_config,
        "data_summary": {"name": getattr(data, "name", ""), "classes": list(data.classes),
                         "train": int(len(data.train_x)), "val": int(len(data.val_x))},
        "device": str(device), "mixed_precision_active": amp, "cpu_threads": torch.get_num_threads(),
    }
