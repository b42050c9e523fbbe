"""Optuna samplers and pruners by name, and the search space as Optuna distributions."""

from __future__ import annotations

import warnings
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.core.search_space import Dimension, SearchSpace

SAMPLERS = {
    "grid": "Grid search (every combination of the grid points)",
    "random": "Random search (independent uniform draws)",
    "tpe": "Bayesian: Tree-structured Parzen Estimator",
    "gp": "Bayesian: Gaussian process",
}
PRUNERS = {
    "none": "No pruning (every trial runs all its epochs)",
    "median": "Median: stop a trial whose epoch is worse than the median of earlier trials at that epoch",
    "hyperband": "Hyperband: successive halving over several brackets of epoch budgets",
}


def startup_trials(budget: int) -> int:
    """Random trials a Bayesian sampler takes before it models the results: a third of the budget, 3 … 10."""
    return max(3, min(10, int(budget) // 3))


def make_sampler(name: str, space: SearchSpace, seed: int | None, budget: int) -> Any:
    import optuna

    name = str(name).lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature notes of some Optuna versions
        if name == "grid":
            return AskTellGridSampler(space.grid(), seed=seed)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(budget))
        if name == "gp":
            if not hasattr(optuna.samplers, "GPSampler"):
                raise UserError(f"This Optuna ({optuna.__version__}) has no Gaussian-process sampler; "
                                "use tpe, or update Optuna to 3.6 or newer.")
            try:
                import scipy  # noqa: F401 - GPSampler needs SciPy (and torch, which we have)
            except ImportError:
                raise UserError("The Gaussian-process sampler needs SciPy; install it with pip install scipy, "
                                "or use tpe.") from None
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup_trials(budget))
    raise UserError(f"Unknown sampler {name!r}: choose grid, random, tpe or gp.")


def make_pruner(name: str, epochs: int) -> Any:
    import optuna

    name = str(name or "none").lower()
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":  # judged from the second epoch on, once two trials have finished
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, int(epochs)), reduction_factor=3)
    raise UserError(f"Unknown pruner {name!r}: choose median, hyperband or none.")


def suggest(trial: Any, dim: Dimension) -> Any:
    """Ask the trial for the dimension's value (the distribution is the same for every sampler)."""
    if dim.kind == "float":
        return trial.suggest_float(dim.key, float(dim.low), float(dim.high), log=dim.log)
    if dim.kind == "int":
        return trial.suggest_int(dim.key, int(dim.low), int(dim.high), step=int(dim.step), log=dim.log)
    return trial.suggest_categorical(dim.key, list(dim.values))


def _grid_sampler_class():
    import optuna

    class _AskTellGridSampler(optuna.samplers.GridSampler):
        """GridSampler that never calls ``study.stop()`` (which only works inside ``optimize``): the
        runner itself stops when every grid point is done (:func:`grid_left`)."""

        def after_trial(self, study, trial, state, values) -> None:
            return None

    return _AskTellGridSampler


def AskTellGridSampler(search_space: dict, seed: int | None = None):  # noqa: N802 - a class factory
    return _grid_sampler_class()(search_space, seed=seed)


def grid_left(trials: list, grid_size: int) -> int:
    """Grid points neither finished nor running nor queued (a trial interrupted by Cancel is requeued)."""
    import optuna

    taken: set[int] = set()
    for t in trials:
        grid_id = t.system_attrs.get("grid_id")
        if grid_id is None:
            continue
        if t.state == optuna.trial.TrialState.FAIL and t.user_attrs.get("interrupted"):
            continue
        taken.add(int(grid_id))
    return max(0, grid_size - len(taken))
