"""The search space (core, no torch, no optuna) and the project's "experiments" section."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.experiments import default_experiments, normalize_experiments
from cnnstudio.core.project import PROJECT_VERSION, ProjectDocument
from cnnstudio.core.search_space import (
    Dimension,
    SearchSpace,
    default_space,
    layer_candidates,
    layer_dimension,
    load_space,
    save_space,
    searchable_training_settings,
    space_from_keys,
    training_dimension,
)
from cnnstudio.core.spec import load_spec


def test_default_ranges_come_from_the_training_schema():
    lr = training_dimension("lr")
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-4, 1e-1, True)
    batch = training_dimension("batch_size")  # a log-scaled count between powers of two: the powers of two
    assert batch.kind == "choice" and batch.choices == (8, 16, 32, 64, 128, 256)
    assert training_dimension("optimizer").choices == ("adam", "adamw", "sgd")
    assert [d.key for d in default_space()] == ["lr", "batch_size"]
    assert "seed" not in searchable_training_settings() and "box_loss" not in searchable_training_settings("classification")
    with pytest.raises(UserError, match="cannot be searched"):
        training_dimension("seed")
    with pytest.raises(UserError, match="no training setting"):
        training_dimension("nope")


def test_layer_parameters_from_the_registry():
    spec = load_spec("lenet5")
    assert ("c1", "out_channels") in layer_candidates(spec) and ("c1", "padding") not in layer_candidates(spec)
    channels = layer_dimension(spec, "c1", "out_channels")
    assert channels.key == "c1.out_channels" and channels.kind == "int" and channels.low <= 6 <= channels.high
    assert layer_dimension(spec, "c1", "bias").values == (False, True)
    with pytest.raises(UserError, match="no layer 'zz'"):
        layer_dimension(spec, "zz", "out_channels")
    with pytest.raises(UserError, match="cannot be searched"):
        layer_dimension(spec, "c1", "padding")


def test_grid_values_are_even_log_and_integer():
    lr = Dimension("training", "lr", "float", low=1e-4, high=1e-2, log=True, grid=3)
    assert lr.grid_values() == pytest.approx([1e-4, 1e-3, 1e-2])
    ch = Dimension("layer", "out_channels", "int", layer="c1", low=4, high=16, grid=4)
    assert ch.grid_values() == [4, 8, 12, 16]
    assert Dimension("layer", "out_channels", "int", layer="c1", low=4, high=5, grid=5).grid_values() == [4, 5]
    space = SearchSpace((lr, ch, Dimension("training", "optimizer", "choice", choices=("adam", "sgd"))))
    assert space.grid_size() == 3 * 4 * 2 and set(space.grid()) == {"lr", "c1.out_channels", "optimizer"}


def test_problems_are_sentences():
    spec = load_spec("lenet5")
    bad = SearchSpace((
        Dimension("training", "lr", "float", low=0.0, high=0.1),  # the learning rate is above 0
        Dimension("training", "seed", "int", low=0, high=5),
        Dimension("layer", "out_channels", "int", layer="c9", low=1, high=4),
        Dimension("layer", "p", "float", layer="c1", low=0, high=1),
        Dimension("training", "batch_size", "choice", choices=(16, "big")),
    ))
    problems = bad.problems(spec)
    assert len(problems) == 5
    assert "above 0" in problems[0] and "cannot be searched" in problems[1] and "no layer 'c9'" in problems[2]
    assert "no parameter 'p'" in problems[3] and "'big'" in problems[4]
    with pytest.raises(UserError, match="empty"):
        SearchSpace(()).check(spec)
    with pytest.raises(UserError, match="low bound"):
        Dimension.from_dict({"target": "training", "name": "lr", "kind": "float", "low": 1, "high": 0.1})
    with pytest.raises(UserError, match="log-scaled"):
        Dimension.from_dict({"name": "lr", "kind": "float", "low": 0, "high": 0.1, "log": True})


def test_apply_writes_a_copy_of_spec_and_settings():
    spec = load_spec("lenet5")
    space = space_from_keys(spec, ["lr", "c1.out_channels"])
    new_spec, training = space.apply({"lr": 0.01, "c1.out_channels": 9.0}, spec, {"lr": 0.002, "epochs": 3})
    assert training == {"lr": 0.01, "epochs": 3}
    assert new_spec["layers"][0]["out_channels"] == 9 and isinstance(new_spec["layers"][0]["out_channels"], int)
    assert spec["layers"][0]["out_channels"] == 6  # the input is left alone


def test_space_file_round_trip_and_versions(tmp_path):
    spec = load_spec("lenet5")
    space = space_from_keys(spec, ["lr", "batch_size", "c1.out_channels", "c1.bias"])
    save_space(space, tmp_path / "space.json")
    assert load_space(tmp_path / "space.json") == space
    raw = json.loads((tmp_path / "space.json").read_text())
    raw["version"] = 99
    (tmp_path / "newer.json").write_text(json.dumps(raw))
    with pytest.raises(FormatError, match="newer CNN Studio"):
        load_space(tmp_path / "newer.json")
    (tmp_path / "bad.json").write_text('{"format": "cnnstudio-search-space", "version": 1, "dimensions": [{}]}')
    with pytest.raises(UserError, match="dimension 1 has no name"):
        load_space(tmp_path / "bad.json")


def test_experiments_section_default_and_checks():
    section = default_experiments()
    assert normalize_experiments(section) == section
    with pytest.raises(FormatError, match="sampler"):
        normalize_experiments({**section, "sampler": "annealing"})
    with pytest.raises(FormatError, match="trials"):
        normalize_experiments({**section, "trials": 0})


def test_project_version_1_gains_the_experiments_section(tmp_path):
    doc = ProjectDocument()
    doc.save(tmp_path / "p.cnnproj")
    raw = json.loads((tmp_path / "p.cnnproj").read_text())
    assert raw["version"] == PROJECT_VERSION == 2 and raw["experiments"] == default_experiments()
    del raw["experiments"]
    raw["version"] = 1
    (tmp_path / "old.cnnproj").write_text(json.dumps(raw))
    old = ProjectDocument()
    old.load(tmp_path / "old.cnnproj")
    assert old.get("experiments") == default_experiments()
    raw.update(version=2, experiments={**default_experiments(), "trials": "many"})
    (tmp_path / "bad.cnnproj").write_text(json.dumps(raw))
    with pytest.raises(FormatError, match="trials"):
        ProjectDocument().load(tmp_path / "bad.cnnproj")
