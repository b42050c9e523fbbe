"""The study runner: a plain generator that runs an Optuna study trial by trial and yields small events.

No Qt here: the CLI (``cnnstudio hpo``) and the Experiments workspace drive the same generator. Each
trial is an ordinary training run (:func:`cnnstudio.ml.trainer.train`) into its own run folder
``<out>/trial-NNNN``; its per-epoch validation metric feeds the pruner. The study lives in an Optuna
storage (a SQLite file by default), so an interrupted study resumes where it stopped, and several
processes with the same storage URL and study name share one study (``load_if_exists``).

Budget: the study runs ``trials`` trials in all, counting those finished in earlier sessions and by
other workers (a trial cut short by Cancel does not count; it is queued again with the same values).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError, first_line
from cnnstudio.core.experiments import MAX_TRIALS
from cnnstudio.core.fileio import atomic_write_json
from cnnstudio.core.search_space import SearchSpace
from cnnstudio.ml.hpo.events import (
    StudyControl,
    StudyDone,
    StudyEvent,
    StudyStarted,
    TrialControl,
    TrialDone,
    TrialEpoch,
    TrialStarted,
)
from cnnstudio.ml.hpo.samplers import PRUNERS, SAMPLERS, grid_left, make_pruner, make_sampler, suggest
from cnnstudio.ml.hpo.storage import normalize_storage_url, open_storage, safe_url

#: metric -> direction
METRICS = {"val_accuracy": "maximize", "val_iou": "maximize", "val_loss": "minimize"}
#: the study's own record of what it searches (a study user attribute)
STUDY_ATTR = "cnnstudio"
TRIAL_FILE = "trial.json"
#: stop after this many trials in a row failed with the same message (a problem no parameter fixes)
SAME_FAILURES_STOP = 3


@dataclass
class StudySettings:
    """How to search: sampler, pruner, budget, seed, and where the study lives."""

    storage: str  # a storage URL or path (see cnnstudio.ml.hpo.storage)
    study: str = "study"
    sampler: str = "tpe"
    pruner: str = "median"
    trials: int = 20
    seed: int | None = 0  # None: a fresh seed (what several workers on one study should use)
    metric: str = "val_accuracy"
    export: bool = False  # export model.onnx for every trial (Inspect needs only the checkpoints)
    extra: dict = field(default_factory=dict)  # recorded with the study (e.g. the data source)

    def validate(self) -> None:
        if self.sampler not in SAMPLERS:
            raise UserError(f"Unknown sampler {self.sampler!r}: choose grid, random, tpe or gp.")
        if self.pruner not in PRUNERS:
            raise UserError(f"Unknown pruner {self.pruner!r}: choose median, hyperband or none.")
        if self.metric not in METRICS:
            raise UserError(f"Unknown metric {self.metric!r}: choose {', '.join(METRICS)}.")
        if not 1 <= int(self.trials) <= MAX_TRIALS:
            raise UserError(f"The number of trials must be from 1 to {MAX_TRIALS:,}, not {self.trials}.")
        if not str(self.study).strip():
            raise UserError("The study needs a name.")
        if self.seed is not None and not 0 <= int(self.seed) < 2**32:
            raise UserError(f"The sampler seed must be from 0 to {2**32 - 1:,}, not {self.seed}.")
        normalize_storage_url(self.storage)

    @property
    def direction(self) -> str:
        return METRICS[self.metric]


def run_study(
    spec: dict,
    data: Any,
    training: dict,
    space: SearchSpace,
    settings: StudySettings,
    out_dir: str | Path,
    control: StudyControl | None = None,
    *,
    data_config: dict | None = None,
) -> Iterator[StudyEvent]:
    """Run (or resume, or join) the study; yields StudyStarted, per trial TrialStarted / TrialEpoch… /
    TrialDone, and ends with one StudyDone. ``data`` is a DatasetBundle or a project "data" dict.

    A bad space, storage or setting raises UserError before the first event.
    """
    started = time.perf_counter()  # the search's own time starts here: importing Optuna is part of it
    import optuna

    from cnnstudio.ml.trainer import EpochEnd, Failed, Finished, train
    from cnnstudio.ml.training.distributed import trial_events

    control = control or StudyControl()
    settings.validate()
    space.check(spec)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data_seconds = 0.0
    if isinstance(data, dict):
        from cnnstudio.ml.datasets import load_dataset

        t_data = time.perf_counter()
        data_config = data_config or data
        data = load_dataset(data)
        data_seconds = time.perf_counter() - t_data
    study = open_study(settings, space, spec, epochs=int(training.get("epochs", 1)))
    out = Path(out_dir)
    _recover_stale(study)
    trials = study.get_trials(deepcopy=False)
    setup_seconds = time.perf_counter() - started - data_seconds
    budget = int(settings.trials)
    grid_size = space.grid_size() if settings.sampler == "grid" else 0
    yield StudyStarted(settings.study, safe_url(normalize_storage_url(settings.storage)), settings.sampler,
                       settings.pruner, settings.metric, settings.direction, budget, _done(trials),
                       int(training.get("epochs", 1)), grid_size)

    maximize = settings.direction == "maximize"
    status, message = "completed", ""
    training_seconds = 0.0
    failures: list[str] = []
    fresh = True  # ``trials`` was just read (one read per trial: storage round trips are the overhead)
    prune = settings.pruner != "none"
    while True:
        if control.paused:
            control.wait_while_paused()
            fresh = False
        if control.cancelled:
            status = "cancelled"
            break
        if not fresh:
            trials = study.get_trials(deepcopy=False)
        fresh = False
        if _counted(trials) >= budget:
            break
        if grid_size and grid_left(trials, grid_size) == 0 and not _waiting(trials):
            status, message = "grid_done", f"Every one of the {grid_size} grid points has been tried."
            break
        trial = study.ask()
        params = {d.key: suggest(trial, d) for d in space}
        run_dir = out / f"trial-{trial.number:04d}"
        retry_of = trial.user_attrs.get("retry_of")
        trial.set_user_attr("run", {"dir": str(run_dir.resolve()), "host": socket.gethostname(), "pid": os.getpid()})
        trial_spec, trial_training = space.apply(params, spec, training)
        yield TrialStarted(trial.number, dict(params), str(run_dir), _done(trials), budget, retry_of)

        trial_control = TrialControl(control)
        t0 = time.perf_counter()
        best: float | None = None
        last: float | None = None
        epochs_done = 0
        pruned = False
        result = None
        events = trial_events(train, trial_spec, data, trial_training, run_dir, trial_control,  # torchrun: DDP
                              data_config=data_config, export=settings.export)
        inside = 0.0
        while True:
            t_next = time.perf_counter()
            try:
                event = next(events)
            except StopIteration:
                inside += time.perf_counter() - t_next
                break
            inside += time.perf_counter() - t_next
            if isinstance(event, EpochEnd):
                value = event.metrics.get(settings.metric)
                if not isinstance(value, (int, float)):
                    continue
                last = float(value)
                epochs_done = event.epoch
                best = last if best is None else (max(best, last) if maximize else min(best, last))
                trial.report(last, event.epoch)
                if prune and not control.cancelled and event.epoch < event.epochs and trial.should_prune():
                    pruned = True
                    trial_control.cancel()  # ends the run after this epoch; its checkpoint is kept
                yield TrialEpoch(trial.number, event.epoch, event.epochs, last, dict(event.metrics),
                                 time.perf_counter() - t0)
            elif isinstance(event, (Finished, Failed)):
                result = event
        training_seconds += inside
        seconds = time.perf_counter() - t0
        state, text = _finish(study, trial, result, pruned, best, control, epochs_done, seconds)
        if state == "failed":
            failures.append(text)
        else:
            failures.clear()
        _write_trial_file(run_dir, settings, trial.number, params, state, best if state == "complete" else last, text)
        trials = study.get_trials(deepcopy=False)
        fresh = True
        best_trial = best_of(trials, maximize)
        yield TrialDone(trial.number, state, best if state == "complete" else last, dict(params), str(run_dir),
                        seconds, epochs_done, _done(trials), budget,
                        best_trial.number if best_trial else None, best_trial.value if best_trial else None, text)
        if state == "interrupted":
            status = "cancelled"
            break
        if len(failures) >= SAME_FAILURES_STOP and len(set(failures[-SAME_FAILURES_STOP:])) == 1:
            status, message = "failed", f"{SAME_FAILURES_STOP} trials in a row failed: {failures[-1]}"
            break

    trials = study.get_trials(deepcopy=False)
    best_trial = best_of(trials, maximize)
    if status == "cancelled" and not message:
        message = "Cancelled; run the study again to resume it (an unfinished trial is repeated)."
    yield StudyDone(status, settings.study, _done(trials), budget,
                    best_trial.number if best_trial else None, best_trial.value if best_trial else None,
                    dict(best_trial.params) if best_trial else {},
                    str(trial_record(best_trial).get("dir", "")) if best_trial else "",
                    time.perf_counter() - started, training_seconds, message, setup_seconds)


def open_study(settings: StudySettings, space: SearchSpace, spec: dict | None = None, epochs: int = 1):
    """Create the study, or load it when it exists (same search space and metric, else a UserError)."""
    import optuna

    storage = open_storage(settings.storage)
    sampler = make_sampler(settings.sampler, space, settings.seed, int(settings.trials))
    pruner = make_pruner(settings.pruner, epochs)
    try:
        study = optuna.create_study(storage=storage, study_name=str(settings.study), sampler=sampler,
                                    pruner=pruner, direction=settings.direction, load_if_exists=True)
    except ValueError as exc:  # e.g. an existing study with other directions
        raise UserError(f"The study {settings.study} cannot be used: {exc}") from None
    except Exception as exc:  # the storage failed (lost connection, locked file, ...)
        first = first_line(exc, 300)
        raise UserError(f"The study {settings.study} cannot be opened: {first}") from None
    if study.direction.name.lower() != settings.direction:
        raise UserError(f"The study {settings.study} already exists and {study.direction.name.lower()}s; "
                        f"{settings.metric} needs a study that {settings.direction}s: choose another study name.")
    record = study.user_attrs.get(STUDY_ATTR)
    mine = {"space": space.to_dict(), "metric": settings.metric}
    if isinstance(record, dict):
        if record.get("space") != mine["space"] or record.get("metric") != mine["metric"]:
            raise UserError(f"The study {settings.study} already exists with another search space or metric; "
                            "choose another study name (or the same space to resume it).")
    else:
        study.set_user_attr(STUDY_ATTR, {**mine, "network": str((spec or {}).get("name", "")),
                                         "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                         **settings.extra})
    return study


def load_study(storage: str, study: str):
    """An existing study (for plots and tables); a missing one is a UserError."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    opened = open_storage(storage)
    try:
        return optuna.load_study(study_name=str(study), storage=opened)
    except KeyError:
        raise UserError(f"There is no study {study!r} in {safe_url(normalize_storage_url(storage))}.") from None


def study_names(storage: str) -> list[str]:
    import optuna

    return sorted(s.study_name for s in optuna.get_all_study_summaries(open_storage(storage), include_best_trial=False))


def best_of(trials: list, maximize: bool):
    """The best complete trial (None when none is)."""
    import optuna

    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda t: t.value)


def trial_record(t) -> dict:
    """What CNN Studio recorded with a trial: dir, host, pid (when it started), seconds, epochs, message
    (when it ended); each may be missing."""
    return {**(t.user_attrs.get("run") or {}), **(t.user_attrs.get("result") or {})}


def _finish(study, trial, result, pruned: bool, best, control, epochs_done: int, seconds: float) -> tuple[str, str]:
    """Tell the study how the trial ended (one attribute write, then tell); returns (state, message)."""
    from optuna.trial import TrialState

    from cnnstudio.ml.trainer import Finished

    record = {"seconds": round(seconds, 3), "epochs": epochs_done}
    if isinstance(result, Finished) and result.status != "cancelled" and best is not None:
        trial.set_user_attr("result", record)
        study.tell(trial, best)
        return "complete", result.message
    if pruned and isinstance(result, Finished):
        trial.set_user_attr("result", record)
        study.tell(trial, state=TrialState.PRUNED)
        return "pruned", f"Pruned after epoch {epochs_done}."
    if control.cancelled:
        trial.set_user_attr("result", record)
        trial.set_user_attr("interrupted", True)
        study.tell(trial, state=TrialState.FAIL)
        _requeue(study, study._storage.get_trial(trial._trial_id))
        return "interrupted", "Cancelled; the trial is repeated when the study resumes."
    message = getattr(result, "message", "") or "The trial ended without a result."
    trial.set_user_attr("result", {**record, "message": message[:500]})
    study.tell(trial, state=TrialState.FAIL)
    return "failed", message


def _requeue(study, frozen) -> None:
    """Queue a trial with the same values as an interrupted one (grid points keep their place)."""
    import optuna

    system = {k: v for k, v in frozen.system_attrs.items() if k in ("grid_id", "search_space")}
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params=dict(frozen.params), distributions=dict(frozen.distributions),
        user_attrs={"retry_of": frozen.number}, system_attrs=system,
    ))


def _recover_stale(study) -> None:
    """Trials left RUNNING by a process of this machine that no longer runs (killed, crashed): mark them
    interrupted and queue them again. Trials of other machines are left alone (they may still run)."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        record = trial_record(t)
        pid = record.get("pid")
        if record.get("host") != host or not isinstance(pid, int) or pid == os.getpid() or _alive(pid):
            continue
        with contextlib.suppress(Exception):  # another worker may recover it at the same moment
            study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            if study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                _requeue(study, study._storage.get_trial(t._trial_id))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _counted(trials: list) -> int:
    """Trials that use the budget: finished or running (not interrupted ones, which are requeued)."""
    from optuna.trial import TrialState

    n = 0
    for t in trials:
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
            n += 1
        elif t.state == TrialState.FAIL and not t.user_attrs.get("interrupted"):
            n += 1
    return n


def _done(trials: list) -> int:
    from optuna.trial import TrialState

    return _counted([t for t in trials if t.state != TrialState.RUNNING])


def _waiting(trials: list) -> bool:
    from optuna.trial import TrialState

    return any(t.state == TrialState.WAITING for t in trials)


def _write_trial_file(run_dir: Path, settings: StudySettings, number: int, params: dict, state: str,
                      value, message: str) -> None:
    """``trial.json`` beside the run's files: which study and trial made the run (for Inspect and humans)."""
    if not run_dir.is_dir():
        return
    with contextlib.suppress(OSError):
        atomic_write_json(run_dir / TRIAL_FILE, {
            "format": "cnnstudio-trial", "version": 1, "study": settings.study,
            "storage": safe_url(normalize_storage_url(settings.storage)), "number": number,
            "sampler": settings.sampler, "pruner": settings.pruner, "metric": settings.metric,
            "params": params, "state": state, "value": value, "message": message,
        })
