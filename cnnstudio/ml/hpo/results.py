"""A study's results as plain data for tables and plots (the GUI draws them with pyqtgraph).

Everything here reads a loaded Optuna study and returns lists and numpy arrays: no Qt, no drawing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.search_space import Dimension, SearchSpace
from cnnstudio.ml.hpo.storage import storage_file

_STATE_NAMES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
                "WAITING": "waiting"}


def state_name(trial) -> str:
    if trial.state.name == "FAIL" and trial.user_attrs.get("interrupted"):
        return "interrupted"
    return _STATE_NAMES.get(trial.state.name, trial.state.name.lower())


def trial_rows(study, space: SearchSpace | None = None) -> list[dict]:
    """One dict per trial: number, state, value, params, epochs, seconds, run_dir, message."""
    from cnnstudio.ml.hpo.runner import trial_record

    rows = []
    for t in study.get_trials(deepcopy=False):
        record = trial_record(t)
        value = t.value if t.state.name == "COMPLETE" else _last_intermediate(t)
        rows.append({
            "number": t.number, "state": state_name(t),
            "value": None if value is None else round(float(value), 6),
            "params": {k: t.params[k] for k in (space.keys if space else t.params) if k in t.params},
            "epochs": int(record.get("epochs", len(t.intermediate_values))),
            "seconds": float(record.get("seconds", 0.0)),
            "run_dir": str(record.get("dir", "")),
            "message": str(record.get("message", "")),
        })
    return rows


def maximizing(study) -> bool:
    return study.direction.name == "MAXIMIZE"


def best_so_far(values: list[float | None], maximize: bool) -> np.ndarray:
    """The running best of a sequence of trial values (NaN until the first finished one)."""
    out = np.full(len(values), np.nan)
    best = None
    for i, v in enumerate(values):
        if v is not None and math.isfinite(v):
            best = v if best is None else (max(best, v) if maximize else min(best, v))
        if best is not None:
            out[i] = best
    return out


@dataclass(frozen=True, eq=False)
class History:
    numbers: np.ndarray  # trial numbers of complete trials
    values: np.ndarray  # their values
    best: np.ndarray  # best so far after each of them
    pruned_numbers: np.ndarray | None = None  # pruned trials ...
    pruned_values: np.ndarray | None = None  # ... and their value at the epoch they were stopped


def history(study) -> History:
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    pruned = [(t.number, _last_intermediate(t)) for t in trials if t.state.name == "PRUNED"]
    pruned = [(n, v) for n, v in pruned if v is not None]
    values = [float(t.value) for t in done]
    return History(np.array([t.number for t in done], dtype=np.int64), np.array(values, dtype=np.float64),
                   best_so_far(values, maximizing(study)), np.array([n for n, _ in pruned], dtype=np.int64),
                   np.array([v for _, v in pruned], dtype=np.float64))


def importances(study, seed: int = 0) -> dict[str, float]:
    """Parameter importances (fANOVA, seeded) of the complete trials; {} with fewer than 2 of them or a
    single varied parameter set that cannot be judged."""
    import optuna

    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(done) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            result = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    return {k: float(v) for k, v in result.items() if math.isfinite(v)}


def numeric_column(trials: list, dim: Dimension) -> np.ndarray:
    """The trials' values of one dimension as numbers for an axis: log10 for a log dimension, the index
    for a choice (NaN where the trial lacks it)."""
    out = np.full(len(trials), np.nan)
    values = list(dim.values)
    for i, t in enumerate(trials):
        if dim.key not in t.params:
            continue
        v = t.params[dim.key]
        if dim.kind in ("bool", "choice"):
            out[i] = values.index(v) if v in values else np.nan
        else:
            out[i] = math.log10(v) if dim.log and v > 0 else float(v)
    return out


def axis_ticks(dim: Dimension, n: int = 5) -> list[tuple[float, str]]:
    """Tick positions and labels for ``numeric_column`` values."""
    if dim.kind in ("bool", "choice"):
        return [(float(i), str(v)) for i, v in enumerate(dim.values)]
    lo, hi = float(dim.low), float(dim.high)
    if dim.log:
        lo, hi = math.log10(lo), math.log10(hi)
    ticks = np.linspace(lo, hi, n) if hi > lo else np.array([lo])
    if dim.kind == "int" and not dim.log:  # whole numbers only
        ticks = np.unique(np.round(ticks))
    return [(float(t), f"{(10 ** t) if dim.log else t:.3g}") for t in ticks]


@dataclass(frozen=True, eq=False)
class Parallel:
    """Parallel coordinates: per complete trial, each dimension scaled to 0…1, then the value scaled."""

    labels: list[str]
    lines: np.ndarray  # (trials, dims + 1)
    values: np.ndarray  # (trials,)
    numbers: np.ndarray  # (trials,)


def parallel(study, space: SearchSpace) -> Parallel:
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    columns = []
    for dim in space:
        col = numeric_column(done, dim)
        ticks = [t for t, _ in axis_ticks(dim)]
        lo, hi = min(ticks), max(ticks)
        columns.append((col - lo) / (hi - lo) if hi > lo else np.full_like(col, 0.5))
    values = np.array([float(t.value) for t in done], dtype=np.float64)
    if len(values):
        lo, hi = float(values.min()), float(values.max())
        columns.append((values - lo) / (hi - lo) if hi > lo else np.full_like(values, 0.5))
    lines = np.stack(columns, axis=1) if columns and len(done) else np.zeros((0, len(space) + 1))
    return Parallel([d.key for d in space] + ["value"], lines, values,
                    np.array([t.number for t in done], dtype=np.int64))


@dataclass(frozen=True, eq=False)
class Scatter2D:
    """Two dimensions against each other, each complete trial a point coloured by its value."""

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    numbers: np.ndarray
    grid: np.ndarray | None  # (ny, nx) value surface interpolated from the points (None with < 3 points)
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the surface


def scatter2d(study, space: SearchSpace, x_key: str, y_key: str, resolution: int = 40) -> Scatter2D:
    """The slice of two dimensions, with an inverse-distance-weighted contour surface under it."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    dx, dy = space.dimension(x_key), space.dimension(y_key)
    x, y = numeric_column(done, dx), numeric_column(done, dy)
    values = np.array([float(t.value) for t in done], dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, values = x[keep], y[keep], values[keep]
    numbers = np.array([t.number for t in done], dtype=np.int64)[keep]
    tx, ty = [t for t, _ in axis_ticks(dx)], [t for t, _ in axis_ticks(dy)]
    x0, x1, y0, y1 = min(tx), max(tx), min(ty), max(ty)
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    grid = None
    if len(values) >= 3:
        gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        px, py = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
        qx, qy = (gx - x0) / (x1 - x0), (gy - y0) / (y1 - y0)
        d2 = (qx[..., None] - px) ** 2 + (qy[..., None] - py) ** 2
        w = 1.0 / np.maximum(d2, 1e-6) ** 1.5
        grid = (w * values).sum(axis=-1) / w.sum(axis=-1)
    return Scatter2D(x, y, values, numbers, grid, (x0, x1, y0, y1))


def _last_intermediate(t) -> float | None:
    if not t.intermediate_values:
        return None
    return float(t.intermediate_values[max(t.intermediate_values)])


def summary(study) -> dict[str, Any]:
    rows = trial_rows(study)
    states = [r["state"] for r in rows]
    return {name: states.count(name) for name in ("complete", "pruned", "failed", "interrupted", "running", "waiting")}


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything the Experiments workspace shows of a study, computed off the GUI thread."""

    study: str
    exists: bool
    maximize: bool
    rows: list  # trial_rows
    history: History | None
    parallel: Parallel | None
    importances: dict
    scatter: Scatter2D | None
    counts: dict  # state -> number of trials
    space: SearchSpace | None = None  # the study's space (axis labels and ticks)


def snapshot(storage: str, study_name: str, space: SearchSpace, x_key: str | None = None,
             y_key: str | None = None) -> Snapshot:
    """Load the study (if it exists) and compute its table and plots; ``x_key``/``y_key`` pick the 2-D slice."""
    import optuna

    from cnnstudio.ml.hpo.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    nothing = Snapshot(str(study_name), False, True, [], None, None, {}, None, {}, space)
    local = storage_file(storage)
    if local is not None and not local.is_file():
        return nothing  # looking must not create the file
    storage_obj = open_storage(storage)
    try:
        study = optuna.load_study(study_name=str(study_name), storage=storage_obj)
    except KeyError:
        return nothing
    keys = [d.key for d in space]
    try:  # the study's own space (it may differ from the edited one)
        from cnnstudio.ml.hpo.runner import STUDY_ATTR

        recorded = study.user_attrs.get(STUDY_ATTR, {}).get("space")
        if recorded:
            space = SearchSpace.from_dict(recorded)
            keys = [d.key for d in space]
    except Exception:  # an unreadable record: fall back to the edited space
        pass
    x_key = x_key if x_key in keys else (keys[0] if keys else None)
    y_key = y_key if y_key in keys and y_key != x_key else next((k for k in keys if k != x_key), None)
    scatter = scatter2d(study, space, x_key, y_key) if x_key and y_key else None
    return Snapshot(str(study_name), True, maximizing(study), trial_rows(study, space), history(study),
                    parallel(study, space) if len(space) else None, importances(study), scatter, summary(study),
                    space)
