"""The lecture's comparison: grid search, random search and Bayesian optimization (TPE) on one budget.

The three studies search the same space with the same seed, the same training settings and the same
number of trials (the grid gets as many points per dimension as fit in the budget); each keeps its own
study in the storage and its own run folders. The result is the best-so-far curve of each against the
number of trials, and how many trials each needed to reach a target (0.97 validation accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cnnstudio.core.search_space import SearchSpace
from cnnstudio.ml.hpo.events import StudyControl, StudyDone, StudyEvent
from cnnstudio.ml.hpo.runner import StudySettings, load_study, run_study

SAMPLERS = ("grid", "random", "tpe")
EXPLANATION = (
    "Grid search tries a fixed lattice: with a small budget each dimension gets only a few values, and "
    "values repeat along every axis, so an unimportant setting wastes trials. Random search draws every "
    "trial independently, so each dimension sees as many distinct values as there are trials. Bayesian "
    "optimization (TPE) starts with a few random trials, then models which regions gave good results and "
    "samples there: it adapts to what it has seen, which is why it usually reaches a good value in fewer "
    "trials."
)


@dataclass(frozen=True)
class SamplerEvent:
    """An event of one of the compared studies."""

    sampler: str
    index: int  # 0, 1, 2: which study of the comparison
    event: StudyEvent


@dataclass(frozen=True)
class ComparisonDone:
    status: str  # "completed" or "cancelled"
    budget: int
    target: float
    curves: dict  # sampler -> tuple of best-so-far values after trial 1, 2, … (None before the first result)
    values: dict  # sampler -> tuple of trial values in trial order (None for a trial without a result)
    trials_to_target: dict  # sampler -> trials needed to reach the target (None: not reached)
    studies: dict  # sampler -> study name
    grid_points: int  # points on the grid


def grid_points_per_dimension(space: SearchSpace, budget: int) -> int:
    """The most points per numeric dimension whose grid (with every choice) still fits in ``budget``."""
    numeric = [d for d in space if d.kind in ("float", "int")]
    fixed = math.prod(len(d.values) for d in space if d.kind in ("bool", "choice"))
    if not numeric:
        return 1
    n = max(1, int(math.floor((max(1, budget) / max(1, fixed)) ** (1.0 / len(numeric)) + 1e-9)))
    while n > 1 and fixed * n ** len(numeric) > budget:
        n -= 1
    return n


def comparison_space(space: SearchSpace, budget: int) -> SearchSpace:
    n = grid_points_per_dimension(space, budget)
    return SearchSpace(tuple(replace(d, grid=n) if d.kind in ("float", "int") else d for d in space))


def run_comparison(
    spec: dict,
    data: Any,
    training: dict,
    space: SearchSpace,
    *,
    budget: int,
    storage: str,
    study_prefix: str,
    out_dir: str | Path,
    seed: int = 0,
    target: float = 0.97,
    metric: str = "val_accuracy",
    samplers: tuple[str, ...] = SAMPLERS,
    control: StudyControl | None = None,
    data_config: dict | None = None,
) -> Iterator[SamplerEvent | ComparisonDone]:
    """Run the studies one after another (no pruning, so every trial's value is a full run's)."""
    control = control or StudyControl()
    if isinstance(data, dict):
        from cnnstudio.ml.datasets import load_dataset

        data_config = data_config or data
        data = load_dataset(data)
    cspace = comparison_space(space, budget)
    status = "completed"
    names = {}
    for index, sampler in enumerate(samplers):
        settings = StudySettings(storage=storage, study=f"{study_prefix}-{sampler}", sampler=sampler,
                                 pruner="none", trials=budget, seed=seed, metric=metric,
                                 extra={"comparison": study_prefix})
        names[sampler] = settings.study
        for event in run_study(spec, data, training, cspace, settings, Path(out_dir) / sampler, control,
                               data_config=data_config):
            yield SamplerEvent(sampler, index, event)
            if isinstance(event, StudyDone) and event.status == "cancelled":
                status = "cancelled"
        if status == "cancelled":
            break
    curves, values, reached = {}, {}, {}
    for sampler, name in names.items():
        study = load_study(storage, name)
        vals = [t.value if t.state.name == "COMPLETE" else None for t in study.get_trials(deepcopy=False)
                if not t.user_attrs.get("interrupted")]
        maximize = study.direction.name == "MAXIMIZE"
        best, curve = None, []
        for v in vals:
            if v is not None:
                best = v if best is None else (max(best, v) if maximize else min(best, v))
            curve.append(best)
        curves[sampler], values[sampler] = tuple(curve), tuple(vals)
        hit = next((i + 1 for i, b in enumerate(curve) if b is not None and (b >= target if maximize else b <= target)),
                   None)
        reached[sampler] = hit
    yield ComparisonDone(status, budget, target, curves, values, reached, names, cspace.grid_size())
