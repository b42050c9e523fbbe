"""Training runs: read one back, rebuild its model, list a project's runs, resume a cancelled one.

The folder's files are read and written by :mod:`cnnstudio.ml.run_folder` (re-exported here); this
module adds what needs the builder or the trainer. Importing it does not import torch (the GUI lists
runs without it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError, first_line
from cnnstudio.ml.run_folder import (  # noqa: F401 - the run API, re-exported
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    RUN_FORMAT,
    RUN_VERSION,
    RunInfo,
    checkpoint_path,
    epoch_checkpoint_name,
    epoch_checkpoints,
    epoch_of_checkpoint,
    is_run_dir,
    latest_checkpoint,
    list_runs,
    load_checkpoint,
    load_run,
    new_run_dir,
    order_checkpoints,
    read_history,
)


def load_weights(model: Any, path: str | Path, what: str = "the run's network") -> Any:
    """Load the checkpoint ``path`` into ``model``; a checkpoint of another network is a UserError."""
    path = Path(path)
    try:
        model.load_state_dict(load_checkpoint(path)["model"])
    except RuntimeError as exc:
        first = first_line(exc, 200, "mismatch")
        raise UserError(f"The checkpoint {path.name} does not fit {what} ({first}).") from None
    return model


def load_run_model(run_dir: str | Path, checkpoint: str | Path | None = None):
    """``(spec, model)`` of a run in eval mode, with the weights of ``checkpoint``.

    ``checkpoint`` is ``"last"`` (the default; the last good epoch), ``"best"``, a file name in
    ``checkpoints/`` (such as ``"epoch3.pt"``) or a path.
    """
    from cnnstudio.ml.builder import build_model

    info = load_run(run_dir)
    path = checkpoint_path(info.path, checkpoint)
    model = load_weights(build_model(info.spec), path)
    return info.spec, model.eval()


def run_data_config(info: RunInfo) -> dict:
    """The data settings a run was trained on (a resumed run loads its data again from them)."""
    data_config = info.config.get("data")
    if not isinstance(data_config, dict):
        raise UserError(f"The run {info.name} does not record its data settings, so it cannot be resumed.")
    return data_config


def resume_run(run_dir: str | Path, control: Any = None, epochs: int | None = None,
               data: Any = None, threads: int | None = None) -> Iterator[Any]:
    """Continue a cancelled (or interrupted) run where its last checkpoint left off.

    The data is loaded again from the run's data settings unless ``data`` (a DatasetBundle) is given;
    ``epochs`` raises the run's total number of epochs. The CLI and the Train workspace both resume here.
    """
    from cnnstudio.core.train_settings import TrainConfig
    from cnnstudio.ml.trainer import train

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
        data = run_data_config(info)
    return train(info.spec, data, config, info.path, control, resume=True,
                 data_config=data_config if isinstance(data_config, dict) else None)
