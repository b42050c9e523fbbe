"""``cnnstudio train`` and ``cnnstudio predict`` end to end, and the bundled model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main

FAST = ["--device", "cpu", "--threads", "1", "--batch-size", "64", "--lr", "0.01"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_spec):
    """One tiny digits run shared by the tests below (two epochs)."""
    folder = tmp_path_factory.mktemp("cli")
    spec = folder / "tiny.json"
    spec.write_text(json.dumps(tiny_spec("digits")))
    out = folder / "run"
    code = main(["train", str(spec), "--data", "digits", "--epochs", "2", "--seed", "1", *FAST, "--out", str(out), "--json"])
    assert code == 0
    return spec, out


def write_png(path, image) -> str:
    import cv2

    cv2.imwrite(str(path), image)
    return str(path)


def test_train_writes_the_run_folder(trained):
    _, out = trained
    for name in ("config.json", "spec.json", "metrics.jsonl", "metrics.json", "model.onnx", "checkpoints/last.pt"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["status"] == "completed" and summary["final"]["epoch"] == 2
    assert summary["final"]["val_accuracy"] > 0.5
    assert json.loads((out / "config.json").read_text())["data"]["source"] == "digits"


def test_train_prints_a_table_and_resumes(trained, tmp_path, capsys):
    spec, _ = trained
    out = tmp_path / "run"
    assert main(["train", str(spec), "--data", "digits", "--epochs", "1", *FAST, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Run completed" in text and "val_accuracy" in text and "Training time" in text
    assert main(["train", "--resume", str(out), "--epochs", "2", "--threads", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["final"]["epoch"] == 2
    assert [r["epoch"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())] == [1, 2]


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "no-such-template", "--data", "digits"], "no network template"),
        (["train", "lenet5", "--data", "nowhere/at/all"], "data folder nowhere/at/all does not exist"),
        (["train", "lenet5", "--data", "nonsense"], "Unknown data 'nonsense'"),
        (["train", "lenet5", "--data", "digits", "--samples", "5"], "--samples does not apply to digits"),
        (["train", "lenet5", "--data", "digits", "--epochs", "0"], "epochs"),
        (["train", "lenet5", "--data", "digits", "--lr", "-1"], "learning rate"),
        (["train"], "Name the network"),
        (["train", "lenet5", "--resume", "somewhere"], "not both"),
        (["train", "--resume", "no-such-run"], "does not exist"),
    ],
)
def test_train_mistakes_are_one_line(args, words, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_train_refuses_to_overwrite_a_run(trained, capsys):
    spec, out = trained
    assert main(["train", str(spec), "--data", "digits", "--out", str(out)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_predict_prints_top_classes(trained, tmp_path, capsys):
    _, out = trained
    dark = np.full((40, 40), 255, np.uint8)
    dark[8:32, 18:22] = 0
    one = write_png(tmp_path / "one.png", dark)
    two = write_png(tmp_path / "two.png", 255 - dark)
    assert main(["predict", str(out / "model.onnx"), one, two]) == 0
    text = capsys.readouterr().out
    assert "one.png" in text and "two.png" in text and "%" in text
    assert main(["predict", str(out / "model.onnx"), one, "--json", "--top", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    (item,) = result["predictions"]
    assert len(item["top"]) == 2 and item["top"][0]["probability"] >= item["top"][1]["probability"]
    assert item["top"][0]["class"] in [str(i) for i in range(10)] and "bbox" not in item
    assert main(["predict", str(out), one, "--json", "--top", "2"]) == 0  # a run folder means its model.onnx
    assert json.loads(capsys.readouterr().out)["predictions"] == result["predictions"]


def test_predict_localization_model_gives_a_box(tmp_path, capsys, tiny_spec):
    spec = tmp_path / "loc.json"
    spec.write_text(json.dumps(tiny_spec("shapes")))
    out = tmp_path / "run"
    assert main(["train", str(spec), "--data", "shapes", "--samples", "60", "--epochs", "1", *FAST,
                 "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "val_iou" in result["final"]
    image = write_png(tmp_path / "shape.png", np.zeros((64, 64, 3), np.uint8))
    assert main(["predict", str(out / "model.onnx"), image, "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)["predictions"]
    assert len(item["bbox"]) == 4 and all(0.0 <= v <= 1.0 for v in item["bbox"])
    assert main(["predict", str(out / "model.onnx"), image]) == 0
    assert "box: x" in capsys.readouterr().out


def test_predict_mistakes_are_one_line(trained, tmp_path, capsys):
    _, out = trained
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    fake_model = tmp_path / "model.onnx"
    fake_model.write_text("not a model")
    good = write_png(tmp_path / "ok.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "empty").mkdir()
    cases = [
        (["predict", str(out / "model.onnx"), str(broken)], "not a readable image"),
        (["predict", str(out / "model.onnx"), str(tmp_path / "missing.png")], "does not exist"),
        (["predict", str(tmp_path / "nothing.onnx"), good], "does not exist"),
        (["predict", str(fake_model), good], "is not an ONNX model"),
        (["predict", str(out / "model.onnx"), good, "--top", "0"], "--top"),
        (["predict", str(tmp_path / "empty"), good], "folder without a model.onnx"),
    ]
    for args, words in cases:
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err


def test_cli_defaults_are_the_trainer_defaults():
    from cnnstudio.commands.train import DEFAULTS
    from cnnstudio.ml.trainer import TrainConfig

    defaults = TrainConfig()
    for key, value in vars(DEFAULTS).items():
        assert getattr(defaults, key) == value, key


def test_bundled_model_reads_dark_ink_on_paper():
    """The bundled LeNet-5: small, self-describing, and right on digits shown as a camera sees them."""
    import torch

    from cnnstudio.core.paths import models_dir
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.onnx_model import OnnxModel

    path = models_dir() / "lenet5-digits.onnx"
    assert path.stat().st_size < 300 * 1024
    card = (models_dir() / "lenet5-digits.md").read_text()
    assert "polarity" in card and "accuracy" in card.lower()
    model = OnnxModel(path)
    assert model.meta.preprocess.polarity == "auto" and model.meta.preprocess.ink == "light"
    assert model.meta.class_names == tuple(str(i) for i in range(10))
    assert model.meta.input_shape == (1, 28, 28)
    data = load_dataset({"source": "digits"})
    paper = 255 - (data.val_x[:, 0] * 255 + 0.5).to(torch.uint8).numpy()  # dark ink on light paper
    batch = np.concatenate([model.prepare(img) for img in paper])
    predictions = model.predict_batch(batch, k=1)
    accuracy = np.mean([p.top[0][0] == int(y) for p, y in zip(predictions, data.val_y)])
    assert accuracy >= 0.95


def test_fit_classes_resizes_a_template_to_the_data(tmp_path, capsys):
    import json

    common = ["train", "lenet5", "--data", "shapes", "--samples", "60", "--epochs", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "no")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--fit-classes" in err and "5 classes" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "no").exists()
    assert main([*common, "--fit-classes", "--out", str(tmp_path / "run")]) == 0
    assert "Fitted the network's last layer" in capsys.readouterr().err
    spec = json.loads((tmp_path / "run" / "spec.json").read_text())
    assert spec["classes"] == ["circle", "square", "triangle", "star", "cross"]
    assert spec["layers"][-1]["out_features"] == 5
