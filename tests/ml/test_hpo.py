"""The study runner on Optuna: samplers run their budget, pruning, cancel and resume, storages, the comparison."""

from __future__ import annotations

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.search_space import Dimension, SearchSpace
from cnnstudio.ml.hpo.compare import ComparisonDone, SamplerEvent, comparison_space, run_comparison
from cnnstudio.ml.hpo.events import StudyControl, StudyDone, StudyStarted, TrialDone, TrialEpoch, TrialStarted
from cnnstudio.ml.hpo.runner import StudySettings, load_study, run_study
from cnnstudio.ml.hpo.storage import normalize_storage_url, open_storage, safe_url

TRAINING = {"epochs": 1, "batch_size": 32, "lr": 0.01, "device": "cpu", "threads": 1, "schedule": "none", "seed": 0}
SPACE = SearchSpace((
    Dimension("training", "lr", "float", low=1e-3, high=1e-1, log=True),
    Dimension("layer", "out_channels", "int", layer="c1", low=2, high=8),
))


@pytest.fixture(scope="module")
def digits():
    from cnnstudio.ml.datasets import DatasetBundle, load_dataset

    d = load_dataset({"source": "digits", "seed": 0})
    return DatasetBundle(d.train_x[:400], d.train_y[:400], d.val_x[:150], d.val_y[:150], d.classes, name="digits")


def settings(tmp_path, **kw) -> StudySettings:
    base = {"storage": f"sqlite:///{tmp_path / 'study.db'}", "study": "s", "sampler": "random", "pruner": "none",
            "trials": 3, "seed": 0}
    base.update(kw)
    return StudySettings(**base)


def test_grid_random_and_tpe_each_run_their_budget(tmp_path, tiny_spec, digits):
    """The lecture's comparison with a fixed seed: every sampler runs the whole budget of 4 trials."""
    events = list(run_comparison(tiny_spec("digits"), digits, TRAINING, SPACE, budget=4,
                                 storage=f"sqlite:///{tmp_path / 'c.db'}", study_prefix="cmp", out_dir=tmp_path, seed=3))
    done = events[-1]
    assert isinstance(done, ComparisonDone) and done.status == "completed"
    assert done.grid_points == 4  # 2 x 2 points: the grid fits the budget
    for sampler in ("grid", "random", "tpe"):
        trials = [e.event for e in events if isinstance(e, SamplerEvent) and e.sampler == sampler
                  and isinstance(e.event, TrialDone)]
        assert [t.state for t in trials] == ["complete"] * 4
        assert len(done.curves[sampler]) == 4 and all(v is not None for v in done.curves[sampler])
        assert list(done.curves[sampler]) == sorted(done.curves[sampler])  # best so far never drops
        assert (tmp_path / sampler / "trial-0003" / "metrics.jsonl").is_file()
    studies = [e for e in events if isinstance(e, SamplerEvent)]
    grid = [e.event.params for e in studies if e.sampler == "grid" and isinstance(e.event, TrialStarted)]
    assert sorted((p["lr"], p["c1.out_channels"]) for p in grid) == [(1e-3, 2), (1e-3, 8), (0.1, 2), (0.1, 8)]
    random = [e.event.params["lr"] for e in studies if e.sampler == "random" and isinstance(e.event, TrialStarted)]
    assert len(set(random)) == 4  # random search: a new value every trial


def test_events_run_folders_and_study_records(tmp_path, tiny_spec, digits):
    events = list(run_study(tiny_spec("digits"), digits, {**TRAINING, "epochs": 2}, SPACE,
                            settings(tmp_path, sampler="tpe", trials=2), tmp_path / "out"))
    assert isinstance(events[0], StudyStarted) and events[0].budget == 2 and events[0].trials_done == 0
    assert [type(e).__name__ for e in events[1:]] == ["TrialStarted", "TrialEpoch", "TrialEpoch", "TrialDone"] * 2 + [
        "StudyDone"]
    last = events[-1]
    assert isinstance(last, StudyDone) and last.status == "completed" and last.trials_done == 2
    assert last.best_value == max(e.value for e in events if isinstance(e, TrialDone))
    assert 0 < last.training_seconds < last.seconds
    from cnnstudio.ml.runs import load_run

    run = load_run(tmp_path / "out" / "trial-0001")  # a normal run folder, with the trial's values applied
    assert run.spec["layers"][0]["out_channels"] == events[5].params["c1.out_channels"]
    assert run.training["lr"] == pytest.approx(events[5].params["lr"])
    study = load_study(settings(tmp_path).storage, "s")
    assert study.trials[1].user_attrs["run"]["dir"] == str((tmp_path / "out" / "trial-0001").resolve())
    assert study.trials[1].user_attrs["result"]["epochs"] == 2


def test_median_pruner_stops_poor_trials_after_an_epoch(tmp_path, tiny_spec, digits):
    space = SearchSpace((Dimension("training", "lr", "float", low=1e-5, high=3e-1, log=True),))
    events = list(run_study(tiny_spec("digits"), digits, {**TRAINING, "epochs": 2}, space,
                            settings(tmp_path, pruner="median", trials=6, seed=1), tmp_path / "out"))
    done = [e for e in events if isinstance(e, TrialDone)]
    assert len(done) == 6
    pruned = [e for e in done if e.state == "pruned"]
    assert pruned, [(e.state, e.value) for e in done]
    assert all(e.epochs_done == 1 for e in pruned)
    assert events[-1].trials_done == 6


def test_cancel_then_resume_repeats_the_interrupted_trial(tmp_path, tiny_spec, digits):
    control = StudyControl()
    first = []
    for event in run_study(tiny_spec("digits"), digits, {**TRAINING, "epochs": 2}, SPACE,
                           settings(tmp_path, trials=3), tmp_path / "out", control):
        first.append(event)
        if isinstance(event, TrialEpoch) and event.number == 1 and event.epoch == 1:
            control.cancel()  # within the epoch: the trial stops after at most one more batch
    assert first[-1].status == "cancelled" and first[-1].trials_done == 1
    interrupted = [e for e in first if isinstance(e, TrialDone)][-1]
    assert interrupted.state == "interrupted"
    second = list(run_study(tiny_spec("digits"), digits, {**TRAINING, "epochs": 2}, SPACE,
                            settings(tmp_path, trials=3), tmp_path / "out"))
    assert second[0].trials_done == 1
    started = [e for e in second if isinstance(e, TrialStarted)]
    assert started[0].retry_of == 1 and started[0].params == interrupted.params
    assert second[-1].status == "completed" and second[-1].trials_done == 3
    # a third session finds the budget spent and trains nothing
    third = list(run_study(tiny_spec("digits"), digits, TRAINING, SPACE, settings(tmp_path, trials=3), tmp_path / "out"))
    assert [type(e) for e in third] == [StudyStarted, StudyDone]


def test_bad_storage_space_and_reuse_are_user_errors(tmp_path, tiny_spec, digits):
    with pytest.raises(UserError, match="unknown scheme 'redis'"):
        open_storage("redis://localhost/0")
    with pytest.raises(UserError, match="not a URL"):
        normalize_storage_url("study.txt")
    assert normalize_storage_url("a/b.log") == "journal:a/b.log" and normalize_storage_url("x.db") == "sqlite:///x.db"
    assert safe_url("postgresql://me:secret@host:5432/db") == "postgresql://me:***@host:5432/db"
    with pytest.raises(UserError, match="Cannot open the study storage"):
        open_storage("postgresql://nobody:pw@127.0.0.1:1/none")
    spec = tiny_spec("digits")
    with pytest.raises(UserError, match="no layer 'c9'"):
        next(run_study(spec, digits, TRAINING, SearchSpace((Dimension("layer", "out_channels", "int", layer="c9",
                                                                       low=1, high=2),)), settings(tmp_path), tmp_path))
    list(run_study(spec, digits, TRAINING, SPACE, settings(tmp_path, trials=1), tmp_path / "out"))
    other = SearchSpace((Dimension("training", "lr", "float", low=1e-3, high=1e-1, log=True),))
    with pytest.raises(UserError, match="another search space"):
        next(run_study(spec, digits, TRAINING, other, settings(tmp_path, trials=1), tmp_path / "out"))


def test_comparison_grid_fits_the_budget():
    assert comparison_space(SPACE, 16).grid_size() == 16
    assert comparison_space(SPACE, 10).grid_size() == 9
    one = SearchSpace((Dimension("training", "optimizer", "choice", choices=("adam", "sgd")), SPACE.dimensions[0]))
    assert comparison_space(one, 8).grid_size() == 8
