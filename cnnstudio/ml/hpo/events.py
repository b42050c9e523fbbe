"""The study runner's control object and events, without torch or optuna (the GUI imports them freely)."""

from __future__ import annotations

from dataclasses import dataclass

from cnnstudio.ml.train_events import TrainControl

#: trial states as the events name them (Optuna's COMPLETE / PRUNED / FAIL, and a trial cut short by Cancel)
TRIAL_STATES = ("complete", "pruned", "failed", "interrupted")


class StudyControl(TrainControl):
    """Pause / resume / cancel of a whole study; pause and cancel take effect within the running epoch."""


class TrialControl(TrainControl):
    """One trial's control: cancelled by the pruner (this trial only) or with its study; paused with it."""

    def __init__(self, study: TrainControl) -> None:
        super().__init__()
        self._study = study

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or self._study.cancelled

    @property
    def paused(self) -> bool:
        return self._study.paused

    def wait_while_paused(self) -> float:
        return self._study.wait_while_paused()


@dataclass(frozen=True)
class StudyStarted:
    study: str
    storage: str  # the storage URL (a password hidden)
    sampler: str
    pruner: str
    metric: str  # "val_accuracy", ...
    direction: str  # "maximize" or "minimize"
    budget: int  # trials the study runs in all (with those of earlier sessions and other workers)
    trials_done: int  # trials already finished when this session started
    epochs: int  # epochs per trial (the training settings' unless searched)
    grid_size: int  # points on the grid (grid sampler), else 0


@dataclass(frozen=True)
class TrialStarted:
    number: int
    params: dict
    run_dir: str
    trials_done: int
    budget: int
    retry_of: int | None = None  # the interrupted trial this one repeats


@dataclass(frozen=True)
class TrialEpoch:
    number: int
    epoch: int
    epochs: int
    value: float  # the metric of this epoch
    metrics: dict  # the trainer's epoch row
    elapsed: float  # seconds since the trial started


@dataclass(frozen=True)
class TrialDone:
    number: int
    state: str  # one of TRIAL_STATES
    value: float | None  # the trial's result (best epoch's metric); None unless complete (pruned: last value)
    params: dict
    run_dir: str
    seconds: float  # the trial's wall time, training included
    epochs_done: int
    trials_done: int
    budget: int
    best_number: int | None  # the study's best trial so far
    best_value: float | None
    message: str = ""


@dataclass(frozen=True)
class StudyDone:
    status: str  # "completed" (budget reached), "grid_done", "cancelled" or "failed"
    study: str
    trials_done: int
    budget: int
    best_number: int | None
    best_value: float | None
    best_params: dict
    best_run_dir: str
    seconds: float  # this session's wall time
    training_seconds: float  # of it, inside the trainer
    message: str = ""
    setup_seconds: float = 0.0  # of it, importing Optuna, opening the storage and the study (once per session)


StudyEvent = StudyStarted | TrialStarted | TrialEpoch | TrialDone | StudyDone
