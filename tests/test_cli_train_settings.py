"""``cnnstudio train``'s training flags are generated from the settings schema."""

from __future__ import annotations

import pytest

from cnnstudio.core import train_settings as ts
from cnnstudio.core.errors import UserError

EXTRA = ts.Option("label_smoothing", "float", 0.0, "Label smoothing", "Spreads a little of each target",
                  minimum=0.0, maximum=1.0, exclusive_maximum=True)


def parse(argv):
    from cnnstudio.cli import build_parser

    return build_parser().parse_args(["train", *argv])


def test_every_option_with_a_flag_is_a_flag_with_its_label_and_default(capsys):
    from cnnstudio.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for opt in ts.OPTIONS:
        if opt.cli:
            assert opt.cli in text and f"{opt.label}:" in text, opt.name
    args = parse(["lenet5", "--lr", "0.01", "--batch-size", "8", "--mixed-precision", "--schedule", "step"])
    from cnnstudio.commands.train import _training_overrides

    assert _training_overrides(args) == {"lr": 0.01, "batch_size": 8, "mixed_precision": True, "schedule": "step"}
    assert _training_overrides(parse(["lenet5"])) == {}


def test_a_new_option_is_a_flag_and_a_config_field_with_no_other_edit(monkeypatch, capsys):
    from cnnstudio.commands.train import _training_overrides

    options = (*ts.OPTIONS, EXTRA)
    monkeypatch.setattr(ts, "OPTIONS", options)
    args = parse(["lenet5", "--label-smoothing", "0.1", "--epochs", "2"])
    overrides = _training_overrides(args)
    assert overrides == {"label_smoothing": 0.1, "epochs": 2}
    config = ts.make_config_class(options).from_dict(overrides)
    assert config.label_smoothing == 0.1 and config.epochs == 2
    with pytest.raises(UserError, match="label smoothing"):
        ts.make_config_class(options).from_dict(_training_overrides(parse(["x", "--label-smoothing", "1"])))


def test_the_trainer_uses_the_schema_config():
    from cnnstudio.ml import trainer

    assert trainer.TrainConfig is ts.TrainConfig
