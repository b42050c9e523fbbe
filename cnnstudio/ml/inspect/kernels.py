"""Learned convolution kernels: of every conv layer, drawn as images, and across a run's checkpoints.

A first-layer kernel on an RGB input is shown as a small colour image (its three input-channel slices as
R, G, B), which is how the lecture's "edge and colour-blob detectors" become visible. Other kernels are
shown one tile per (filter, input channel) pair, a row per filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.inspect.render import GridLayout, colorize, tile_images, tile_scale


def torch_conv_weights(model: Any) -> dict[str, np.ndarray]:
    """The weight (out, in, kh, kw) of every ``nn.Conv2d`` in ``model.layers`` (by id), in order."""
    import torch.nn as nn

    from cnnstudio.ml.inspect.features import torch_layer_modules

    layers = torch_layer_modules(model)
    items = layers.items() if layers else model.named_modules()
    return {
        name: module.weight.detach().float().cpu().numpy()
        for name, module in items
        if isinstance(module, nn.Conv2d)
    }


def render_kernels(weight: np.ndarray, cmap: str = "viridis", tile: int = 32, max_tiles: int = 256) -> tuple[np.ndarray, GridLayout]:
    """A conv weight (out, in, kh, kw) as a uint8 RGB grid image (see the module docstring)."""
    w = np.asarray(weight, dtype=np.float32)
    if w.ndim != 4:
        raise UserError(f"A conv kernel has 4 dimensions (out, in, kh, kw); this one has shape {w.shape}.")
    out_c, in_c, kh, kw = w.shape
    scale = tile_scale(kh, kw, min_size=tile)
    if in_c == 3:
        flat = w.reshape(out_c, -1)
        lo = flat.min(axis=1).reshape(-1, 1, 1, 1)
        span = flat.max(axis=1).reshape(-1, 1, 1, 1) - lo
        span = np.where(span > 1e-12, span, np.inf)
        rgb = ((w - lo) / span * 255).clip(0, 255).astype(np.uint8).transpose(0, 2, 3, 1)  # (out, kh, kw, 3)
        tiles = rgb[:max_tiles]
        columns = None
    else:
        pairs = w.reshape(out_c * in_c, kh, kw)[:max_tiles]
        lo = pairs.reshape(len(pairs), -1).min(axis=1).reshape(-1, 1, 1)
        span = pairs.reshape(len(pairs), -1).max(axis=1).reshape(-1, 1, 1) - lo
        span = np.where(span > 1e-12, span, np.inf)
        levelled = ((pairs - lo) / span * 255).clip(0, 255).astype(np.uint8)
        tiles = colorize(levelled, cmap)
        columns = in_c if 1 < in_c <= 16 else None
    tiles = np.repeat(np.repeat(tiles, scale, axis=1), scale, axis=2)
    return tile_images(tiles, columns=columns, labels=False)  # an index badge would hide a 5x5 kernel


@dataclass(frozen=True)
class KernelSnapshot:
    """The conv weights of one checkpoint: its epoch, file and weights by layer id.

    ``sources`` names the run's files with this epoch's weights, e.g. ``("epoch3.pt", "best.pt")``
    (empty for the rebuilt initial weights of epoch 0).
    """

    epoch: int
    path: Path | None
    weights: dict[str, np.ndarray]
    sources: tuple[str, ...] = ()


def _conv_weights(state: dict) -> dict[str, np.ndarray]:
    weights = {}
    for key, value in state.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "layers" and parts[2] == "weight" and getattr(value, "ndim", 0) == 4:
            weights[parts[1]] = value.detach().float().cpu().numpy()
    return weights


def initial_kernels(run_dir: str | Path) -> KernelSnapshot | None:
    """The run's weights before its first epoch (epoch 0), rebuilt as the trainer built them: the run's
    spec with the torch seed of its config. None when the run does not say its seed or its spec fails."""
    import torch

    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.run_folder import load_run

    try:
        run = load_run(run_dir)
        seed = run.training.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            return None
        with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
            torch.manual_seed(seed)
            model = build_model(run.spec)
    except (UserError, ValueError, TypeError, KeyError):
        return None
    return KernelSnapshot(0, None, _conv_weights(model.state_dict()))


def _read_state(path: Path) -> tuple[int | None, dict]:
    """(epoch, model state) of a checkpoint file: the trainer's files and plain ``state_dict`` files,
    through the one loader (``weights_only=True``: no pickled code)."""
    from cnnstudio.ml.run_folder import load_checkpoint

    payload = load_checkpoint(path)
    epoch = payload.get("epoch")
    return (epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None), payload["model"]


def checkpoint_kernels(run_dir: str | Path, with_initial: bool = True) -> list[KernelSnapshot]:
    """Conv weights of every checkpoint of a run, one snapshot per epoch in epoch order, for the slider.

    The trainer's per-epoch files ``epoch{N}.pt`` come first; ``best.pt`` and ``last.pt`` hold the
    weights of some epoch too (their payload says which) and only add a snapshot for an epoch without an
    epoch file (older runs, or epochs a big model did not keep); otherwise they are noted in its
    ``sources``. Any other ``*.pt`` file gives the epoch its payload states, else the number in its name.
    ``with_initial`` puts the weights before training first (epoch 0, rebuilt from the run's seed), so
    that even a run that kept only its last checkpoint shows how training changed its kernels.

    Conv weights are the 4-D ``layers.<id>.weight`` tensors of each checkpoint's model state.
    """
    from cnnstudio.ml.run_folder import checkpoint_files, epoch_in_name, epoch_of_checkpoint

    by_epoch: dict[int, KernelSnapshot] = {}
    for index, path in enumerate(checkpoint_files(run_dir)):
        named = epoch_of_checkpoint(path)
        stated, state = _read_state(path)
        epoch = named if named is not None else stated if stated is not None else epoch_in_name(path, index + 1)
        known = by_epoch.get(epoch)
        if known is not None:  # the same epoch's weights in another file: one slider position
            by_epoch[epoch] = KernelSnapshot(epoch, known.path, known.weights, (*known.sources, path.name))
        else:
            by_epoch[epoch] = KernelSnapshot(epoch, path, _conv_weights(state), (path.name,))
    if with_initial and by_epoch and 0 not in by_epoch:
        initial = initial_kernels(run_dir)
        if initial is not None:
            by_epoch[0] = initial
    return [by_epoch[e] for e in sorted(by_epoch)]


def kernel_change(snapshots: list[KernelSnapshot], layer: str) -> list[float]:
    """How far each checkpoint's kernels of ``layer`` moved from the previous one (relative L2 norm)."""
    out = []
    previous = None
    for snap in snapshots:
        w = snap.weights.get(layer)
        if w is None:
            out.append(float("nan"))
            continue
        if previous is None or previous.shape != w.shape:
            out.append(0.0)
        else:
            out.append(float(np.linalg.norm(w - previous) / max(1e-12, np.linalg.norm(previous))))
        previous = w
    return out
