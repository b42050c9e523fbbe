"""The one training-options schema: TrainConfig, defaults, checks and the search-space facts come from it."""

from __future__ import annotations

import dataclasses
import math

import pytest

from cnnstudio.core import train_settings as ts
from cnnstudio.core.errors import UserError


def test_train_config_is_generated_from_the_options():
    names = [f.name for f in dataclasses.fields(ts.TrainConfig)]
    assert names == [opt.name for opt in ts.OPTIONS]
    assert ts.TrainConfig().to_dict() == ts.defaults()
    for opt in ts.OPTIONS:
        assert isinstance(opt.default, opt.python_type), opt.name
        assert opt.check(opt.default) == opt.default, opt.name  # every default is valid


def test_the_project_defaults_are_the_schema_defaults():
    from cnnstudio.core.project import ProjectDocument, default_training

    assert default_training() == ts.defaults()
    assert ProjectDocument().get("training") == ts.defaults()


@pytest.mark.parametrize(
    "name, good, bad",
    [
        ("lr", [1e-9, 10.0], [0.0, -1.0, 10.5, math.inf, math.nan]),  # above 0, at most 10
        ("momentum", [0.0, 0.999], [1.0, -0.1]),  # at least 0, below 1
        ("weight_decay", [0.0, 1.0], [1.01, -1e-9]),  # from 0 to 1
        ("batch_size", [1, 1_000_000], [0, 1_000_001]),
        ("seed", [0, ts.MAX_SEED], [-1, ts.MAX_SEED + 1]),
        ("early_stopping", [0, 10**6], [-1]),
        ("device", ["auto", "CPU", "cuda:1"], ["tpu", "cuda:", "cuda:x"]),
    ],
)
def test_ranges_are_inclusive_unless_marked_exclusive(name, good, bad):
    for value in good:
        ts.check(name, value)
    for value in bad:
        with pytest.raises(UserError):
            ts.check(name, value)


def test_check_coerces_and_speaks_in_sentences():
    assert ts.check("epochs", 3.0) == 3 and isinstance(ts.check("epochs", 3.0), int)
    assert ts.check("lr", "0.01") == 0.01
    assert ts.check("optimizer", "SGD") == "sgd"
    assert ts.check("mixed_precision", 1) is True
    with pytest.raises(UserError, match=r"^The learning rate must be above 0 and at most 10, not 0\.$"):
        ts.check("lr", 0)
    with pytest.raises(UserError, match=r"^The SGD momentum must be at least 0 and below 1, not 1\.$"):
        ts.check("momentum", 1)
    with pytest.raises(UserError, match=r"^Early stopping patience must be 0 \(off\) or more epochs, not -2\.$"):
        ts.check("early_stopping", -2)
    with pytest.raises(UserError, match=r"one of adam, adamw or sgd, not 'rmsprop'"):
        ts.check("optimizer", "rmsprop")
    with pytest.raises(UserError, match=r"\(epochs\) must be a whole number"):
        ts.check("epochs", 2.5)
    with pytest.raises(KeyError):
        ts.option("no_such_option")


def test_search_space_facts_are_consistent():
    """What the hyperparameter search reads: searchable numbers have an interval inside their range."""
    searchable = {opt.name for opt in ts.OPTIONS if opt.searchable}
    assert {"lr", "batch_size", "weight_decay", "momentum", "optimizer", "schedule", "epochs"} <= searchable
    for opt in ts.OPTIONS:
        if opt.searchable and opt.kind in ("int", "float"):
            low, high = opt.search
            assert low < high and opt.check(low) == low and opt.check(high) == high, opt.name
            assert not opt.log or low > 0, opt.name
        if opt.kind == "choice":
            assert opt.choices and all(isinstance(label, str) for label in opt.choices.values())
    assert ts.option("box_loss").tasks == ("localization",) and not ts.option("box_loss").applies_to("classification")


def test_a_new_option_becomes_a_config_field_with_its_checks():
    extra = ts.Option("label_smoothing", "float", 0.0, "Label smoothing", "Spreads a little of each target",
                      minimum=0.0, maximum=1.0, exclusive_maximum=True, searchable=True, search=(0.0, 0.2))
    config_class = ts.make_config_class((*ts.OPTIONS, extra))
    assert config_class().label_smoothing == 0.0
    assert config_class.from_dict({"label_smoothing": 0.1, "epochs": 2}).to_dict()["label_smoothing"] == 0.1
    with pytest.raises(UserError, match="The label smoothing must be at least 0 and below 1, not 1"):
        config_class.from_dict({"label_smoothing": 1})
    assert extra.cli == "--label-smoothing" and ts.Option("x", "int", 0, "X", "x", cli=None).cli is None


def test_the_settings_table_of_the_docs_lists_every_flag_with_its_default():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("--"):
            rows[cells[1].split()[0]] = cells[2]
    for opt in ts.OPTIONS:
        if opt.cli:
            assert opt.cli in rows, opt.cli
            assert rows[opt.cli].split(" (")[0] == opt.default_text, opt.cli
