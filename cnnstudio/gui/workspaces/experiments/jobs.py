"""Work done on worker threads for the Experiments workspace (run by cnnstudio.gui.workers.WorkerGroup).

Plain functions and generators: they load the data, run the study runner or the comparison, or read a
study's results; they never touch a widget and yield only the runner's frozen events.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataLoaded:
    """The dataset is in memory; the first trial starts now."""

    name: str
    train: int
    val: int


def study_job(spec: dict, data_config: dict, training: dict, space_dict: dict, settings, out_dir: str, control):
    """Load the data, then yield the events of :func:`cnnstudio.ml.hpo.runner.run_study`."""
    from cnnstudio.core.search_space import SearchSpace
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.hpo.runner import run_study

    space = SearchSpace.from_dict(space_dict)
    bundle = load_dataset(data_config)
    yield DataLoaded(str(getattr(bundle, "name", "")), len(bundle.train_x), len(bundle.val_x))
    if control.cancelled:
        return
    yield from run_study(spec, bundle, training, space, settings, out_dir, control, data_config=data_config)


def comparison_job(spec: dict, data_config: dict, training: dict, space_dict: dict, budget: int, seed: int,
                   storage: str, prefix: str, out_dir: str, control):
    """Load the data, then yield the events of :func:`cnnstudio.ml.hpo.compare.run_comparison`."""
    from cnnstudio.core.search_space import SearchSpace
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.hpo.compare import run_comparison

    space = SearchSpace.from_dict(space_dict)
    bundle = load_dataset(data_config)
    yield DataLoaded(str(getattr(bundle, "name", "")), len(bundle.train_x), len(bundle.val_x))
    if control.cancelled:
        return
    yield from run_comparison(spec, bundle, training, space, budget=budget, storage=storage, study_prefix=prefix,
                              out_dir=out_dir, seed=seed, control=control, data_config=data_config)


def snapshot_job(storage: str, study: str, space_dict: dict, x_key: str | None, y_key: str | None):
    """The study's table and plot data (``None`` fields when it has no trials yet)."""
    from cnnstudio.core.search_space import SearchSpace
    from cnnstudio.ml.hpo.results import snapshot

    return snapshot(storage, study, SearchSpace.from_dict(space_dict), x_key, y_key)
