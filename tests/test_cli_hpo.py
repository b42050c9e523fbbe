"""``cnnstudio hpo``: the table and best trial, one-line errors, and two processes sharing one study."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cnnstudio.cli import main
from cnnstudio.core.search_space import Dimension, SearchSpace, save_space

FAST = ["--data", "digits", "--epochs", "1", "--device", "cpu", "--threads", "1", "--set", "batch_size=64",
        "--set", "schedule=none"]


@pytest.fixture()
def files(tmp_path, tiny_spec):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(tiny_spec("digits")))
    space = tmp_path / "space.json"
    save_space(SearchSpace((Dimension("training", "lr", "float", low=1e-3, high=1e-1, log=True),
                            Dimension("layer", "out_channels", "int", layer="c1", low=2, high=6))), space)
    return spec, space


def test_hpo_prints_the_trials_and_the_best(tmp_path, files, capsys):
    spec, space = files
    code = main(["hpo", str(spec), *FAST, "--sampler", "random", "--trials", "2", "--space", str(space),
                 "--out", str(tmp_path / "out"), "--study", "cli"])
    out = capsys.readouterr().out
    assert code == 0
    assert "trial  state" in out and "c1.out_channels" in out and "Best trial" in out
    assert (tmp_path / "out" / "study.optuna.db").is_file() and (tmp_path / "out" / "trial-0001" / "trial.json").is_file()
    # the same command again resumes the study: the budget is spent, so it trains nothing new
    code = main(["hpo", str(spec), *FAST, "--sampler", "random", "--trials", "2", "--space", str(space),
                 "--out", str(tmp_path / "out"), "--study", "cli", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["trials_done"] == 2 and len(result["trials"]) == 2
    assert result["best"]["value"] == max(t["value"] for t in result["trials"])


@pytest.mark.parametrize("extra, message", [
    (["--space", "missing.json"], "does not exist"),
    (["--storage", "redis://host/0"], "unknown scheme 'redis'"),
    (["--storage", "notes.txt"], "not a URL"),
    (["--set", "colour=red"], "no training setting 'colour'"),
    (["--epochs", "0"], "number of epochs must be"),  # checked once by the schema, not failed in every trial
    (["--seed", "-1"], "seed must be from 0"),
    (["--seed", "3000000000"], "The seed must be from 0 to 2,147,483,647"),  # the sampler takes it, the trials not
    (["--data", "nonsense"], "Unknown data 'nonsense': use digits, shapes, multishapes"),  # train's reading of --data
])
def test_mistakes_exit_2_with_one_line(tmp_path, files, capsys, extra, message):
    spec, _ = files
    code = main(["hpo", str(spec), *FAST, "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_bad_space_exits_2(tmp_path, files, capsys):
    spec, _ = files
    bad = tmp_path / "bad.json"
    save_space(SearchSpace((Dimension("layer", "out_channels", "int", layer="nope", low=1, high=4),)), bad)
    assert main(["hpo", str(spec), *FAST, "--space", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no layer 'nope'" in err and len(err.strip().splitlines()) == 1


def start_two_workers(tmp_path, spec, space, storage: str, name: str, budget: int = 4) -> list[subprocess.Popen]:
    """Two ``cnnstudio hpo`` processes on one storage and study name, each with its own seed and folder."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return [
        subprocess.Popen([sys.executable, "-m", "cnnstudio", "hpo", str(spec), *FAST, "--sampler", "random",
                          "--pruner", "none", "--trials", str(budget), "--space", str(space), "--storage", storage,
                          "--study", "shared", "--seed", str(seed), "--out", str(tmp_path / f"{name}-worker{seed}")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for seed in (1, 2)
    ]


def check_shared(storage: str, procs: list[subprocess.Popen], budget: int = 4) -> None:
    """Both workers were told ``--trials 4``: one shared study holds 4 trials (not two studies of 4 each)."""
    from cnnstudio.ml.hpo.runner import load_study

    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    study = load_study(storage, "shared")
    finished = [t for t in study.trials if t.state.is_finished()]
    # each worker stops once the study holds the budget; a trial asked for at the same moment may add one
    assert budget <= len(finished) <= budget + 1
    assert all(t.state.name == "COMPLETE" for t in finished)
    assert len({t.user_attrs["run"]["pid"] for t in finished}) == 2, "both processes ran trials of the one study"
    assert len({t.number for t in finished}) == len(finished)


@pytest.mark.slow
def test_two_processes_share_one_sqlite_and_one_journal_study(tmp_path, files):
    """Four processes at once: two on a SQLite study, two on a journal-file study."""
    spec, space = files
    storages = {"sqlite": f"sqlite:///{tmp_path / 'shared.db'}", "journal": f"journal:{tmp_path / 'shared.log'}"}
    running = {name: start_two_workers(tmp_path, spec, space, url, name) for name, url in storages.items()}
    for name, url in storages.items():
        check_shared(url, running[name])


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CNNSTUDIO_TEST_POSTGRES_URL"),
                    reason="no PostgreSQL server: .ci/run starts one and sets CNNSTUDIO_TEST_POSTGRES_URL")
def test_two_processes_share_one_postgresql_study(tmp_path, files):
    """Against a real PostgreSQL server (``.ci/run`` installs and starts a throwaway one)."""
    import optuna

    spec, space = files
    storage = os.environ["CNNSTUDIO_TEST_POSTGRES_URL"]
    from cnnstudio.ml.hpo.storage import open_storage

    try:  # a study left by an earlier run against the same server
        optuna.delete_study(study_name="shared", storage=open_storage(storage))
    except KeyError:
        pass
    check_shared(storage, start_two_workers(tmp_path, spec, space, storage, "postgres"))
