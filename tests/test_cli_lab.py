"""``cnnstudio transfer`` and ``cnnstudio robustness``: tables, PNG plots, JSON and one-line user errors."""

from __future__ import annotations

import json

import pytest

from cnnstudio.cli import main as cli_main


def test_transfer_compares_and_writes_the_plot(tmp_path, capsys):
    rc = cli_main(["transfer", "--epochs", "2", "--labels-per-class", "3", "--device", "cpu", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "with transfer" in out and "asymptote" in out and "frozen: c1, c2, c3" in out
    summary = json.loads((tmp_path / "transfer.json").read_text())
    assert len(summary["curves"]["transfer"]) == 2 and (tmp_path / "transfer.png").stat().st_size > 1000


def test_transfer_user_errors_are_one_line(capsys):
    assert cli_main(["transfer", "--backbone", "no-such-net"]) == 2
    assert "Unknown backbone" in capsys.readouterr().err
    assert cli_main(["transfer", "--freeze", "c1,out", "--epochs", "1"]) == 2
    assert "cannot be frozen" in capsys.readouterr().err
    assert cli_main(["transfer", "--download"]) == 2
    assert cli_main(["robustness"]) == 2
    assert "Name an experiment" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    # the training flags are the settings schema's, checked as ``cnnstudio train`` checks them
    (["robustness", "fairness", "--epochs", "0"], "The number of epochs must be from 1"),  # used to train nothing
    (["robustness", "bias", "--seed", "-1"], "The seed must be from 0"),
    (["robustness", "adversarial", "--epochs", "0"], "The number of epochs must be from 1"),
    (["transfer", "--seed", "-3"], "The seed must be from 0"),  # used to blame a data setting
    (["transfer", "--lr", "0"], "The learning rate must be above 0"),
    (["transfer", "--batch-size", "0"], "The batch size must be from 1"),
    (["transfer", "--data", "shapes"], "The data cannot be shapes here: use digits, or a dataset folder"),
    (["transfer", "--data", "nonsense"], "Unknown data 'nonsense': use digits or a dataset folder"),
    (["transfer", "--data", "no/such/folder"], "The data folder no/such/folder does not exist"),
    (["transfer", "--finetune-epochs", "-1"], "The fine-tuning epochs must be 0 (none) or more"),
    (["transfer", "--finetune-epochs", "1", "--finetune-lr-factor", "0"], "learning-rate factor must be above 0"),
    (["transfer", "--backbone", "resnet18", "--input-size", "4"], "must be from 16 to 512 pixels"),
])
def test_lab_training_flags_are_checked_before_any_work(tmp_path, capsys, argv, message):
    assert cli_main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_lab_help_gives_each_commands_own_defaults(capsys):
    for argv, default in ((["transfer"], "(default 12)"), (["robustness", "fairness"], "(default 15)"),
                          (["robustness", "shifts"], "(default 6)")):
        with pytest.raises(SystemExit):
            cli_main([*argv, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert f"passes over the training images {default}" in text and "Epochs (" in text


def test_robustness_fairness_prints_gaps_and_writes_png(tmp_path, capsys):
    rc = cli_main(["robustness", "fairness", "--epochs", "3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "parity gap" in out and "odds gap" in out
    assert (tmp_path / "fairness.png").is_file() and (tmp_path / "fairness.json").is_file()
    assert cli_main(["robustness", "fairness", "--adult", str(tmp_path / "missing.data")]) == 2


@pytest.mark.slow
def test_robustness_adversarial_and_shifts_on_a_quick_model(tmp_path, capsys):
    import cv2
    import numpy as np

    picture = np.full((64, 64), 255, np.uint8)
    cv2.putText(picture, "7", (16, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 5)
    cv2.imwrite(str(tmp_path / "seven.png"), picture)
    rc = cli_main(["robustness", "adversarial", "--epochs", "1", "--eps", "0,0.1", "--steps", "3",
                   "--images", "40", "--image", str(tmp_path / "seven.png"), "--out", str(tmp_path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["curves"]["FGSM"][0]["eps"] == 0.0 and result["example"]["image"] == "seven.png"
    assert (tmp_path / "adversarial-example.png").is_file() and (tmp_path / "adversarial-curve.png").is_file()
    rc = cli_main(["robustness", "shifts", "--epochs", "1", "--kinds", "shift,blur", "--images", "60",
                   "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "changes of prediction" in out and (tmp_path / "shifts-blur.png").is_file()
    assert cli_main(["robustness", "shifts", "--kinds", "wobble"]) == 2
