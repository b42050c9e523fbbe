"""The project's "experiments" section: the search space and how to search it (versioned on its own).

::

    {"format": "cnnstudio-experiments", "version": 1,
     "space": {<a cnnstudio-search-space>}, "sampler": "tpe", "pruner": "median",
     "trials": 20, "epochs": 0, "seed": 0, "study": "study", "storage": ""}

``epochs`` is the epochs of every trial; 0 means the training settings' (unless the space searches them).

``storage`` empty means the default: a SQLite file beside the project (``<project>.optuna.db``), or in
the user's data folder for a project not saved yet. The results of a study live in its storage, not
here, so a project file stays small.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.formats import upgrade

EXPERIMENTS_FORMAT = "cnnstudio-experiments"
EXPERIMENTS_VERSION = 1
SAMPLER_NAMES = ("grid", "random", "tpe", "gp")
PRUNER_NAMES = ("median", "hyperband", "none")
MAX_TRIALS = 100_000


def study_slug(study: str) -> str:
    """The study's name as a folder name: ``runs/hpo-<slug>`` holds its trials' run folders."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(study)).strip("-") or "study"


def default_experiments() -> dict:
    from cnnstudio.core.search_space import default_space

    return {
        "format": EXPERIMENTS_FORMAT, "version": EXPERIMENTS_VERSION,
        "space": default_space().to_dict(), "sampler": "tpe", "pruner": "median",
        "trials": 20, "epochs": 0, "seed": 0, "study": "study", "storage": "",
    }


def normalize_experiments(data: Any, source: str = "The experiments settings") -> dict:
    """Check and complete an experiments section (older versions migrated); problems are FormatErrors."""
    from cnnstudio.core.search_space import SearchSpace

    section = upgrade(data, EXPERIMENTS_FORMAT, EXPERIMENTS_VERSION, source=source)
    out = default_experiments()
    out.update({k: v for k, v in section.items() if k in out})
    try:
        SearchSpace.from_dict(out["space"], source=f"{source}' search space")
    except UserError as exc:
        raise FormatError(str(exc)) from None
    if out["sampler"] not in SAMPLER_NAMES:
        raise FormatError(f"{source} name an unknown sampler {out['sampler']!r}.")
    if out["pruner"] not in PRUNER_NAMES:
        raise FormatError(f"{source} name an unknown pruner {out['pruner']!r}.")
    trials = out["trials"]
    if not isinstance(trials, int) or isinstance(trials, bool) or not 1 <= trials <= MAX_TRIALS:
        raise FormatError(f"{source} have an invalid number of trials {trials!r}.")
    epochs = out["epochs"]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 0 <= epochs <= 100_000:
        raise FormatError(f"{source} have an invalid number of epochs {epochs!r}.")
    seed = out["seed"]
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise FormatError(f"{source} have an invalid seed {seed!r}.")
    for key in ("study", "storage"):
        if not isinstance(out[key], str):
            raise FormatError(f"{source} have a {key} that is not text.")
    return out
