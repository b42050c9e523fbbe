"""A model sees at prediction time what it saw in training: train, export, then ``predict`` on the
validation images' own PNG files gives the run's validation accuracy back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main

FAST = ["--device", "cpu", "--threads", "1", "--seed", "0"]


def _write_pngs(folder, x) -> list[str]:
    """The dataset's own pixels ((N, C, H, W) in [0, 1]) as 8-bit PNG files."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(x.numpy()):
        pixels = np.round(image * 255).astype(np.uint8)
        pixels = pixels[0] if pixels.shape[0] == 1 else cv2.cvtColor(pixels.transpose(1, 2, 0), cv2.COLOR_RGB2BGR)
        paths.append(str(folder / f"{i:04d}.png"))
        cv2.imwrite(paths[-1], pixels)
    return paths


def _predict_accuracy(model, paths, labels, capsys) -> float:
    capsys.readouterr()
    assert main(["predict", str(model), *paths, "--top", "1", "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)["predictions"]
    return float(np.mean([p["top"][0]["index"] == int(y) for p, y in zip(predictions, labels)]))


def _shapes_folder(root) -> None:
    """Three classes of dark outlines on light paper, 32x32 gray PNGs, 50 each (seeded)."""
    import cv2

    rng = np.random.default_rng(0)
    for name in ("circle", "square", "cross"):
        (root / name).mkdir(parents=True)
        for i in range(50):
            page = np.full((32, 32), int(rng.integers(200, 250)), np.uint8)
            cx, cy, r = (int(v) for v in (rng.integers(11, 21), rng.integers(11, 21), rng.integers(6, 10)))
            if name == "circle":
                cv2.circle(page, (cx, cy), r, 20, 2)
            elif name == "square":
                cv2.rectangle(page, (cx - r, cy - r), (cx + r, cy + r), 20, 2)
            else:
                cv2.line(page, (cx - r, cy - r), (cx + r, cy + r), 20, 2)
                cv2.line(page, (cx - r, cy + r), (cx + r, cy - r), 20, 2)
            cv2.imwrite(str(root / name / f"{i}.png"), page)


@pytest.mark.slow
def test_lenet5_on_the_digits_predicts_its_own_validation_pngs(tmp_path, capsys):
    from cnnstudio.ml.datasets import load_dataset

    run = tmp_path / "run"
    assert main(["train", "lenet5", "--data", "digits", "--epochs", "2", *FAST, "--out", str(run), "--json"]) == 0
    val_accuracy = json.loads(capsys.readouterr().out)["final"]["val_accuracy"]
    data = load_dataset(json.loads((run / "config.json").read_text())["data"])
    paths = _write_pngs(tmp_path / "val", data.val_x)
    assert abs(_predict_accuracy(run, paths, data.val_y, capsys) - val_accuracy) <= 0.03
    exported = tmp_path / "exported.onnx"  # `cnnstudio export RUN` writes the same preprocessing
    assert main(["export", str(run), "--onnx", str(exported)]) == 0
    assert abs(_predict_accuracy(exported, paths, data.val_y, capsys) - val_accuracy) <= 0.03


@pytest.mark.slow
def test_lenet5_fitted_to_an_image_folder_predicts_its_own_validation_pngs(tmp_path, capsys):
    from cnnstudio.ml.datasets import load_dataset

    _shapes_folder(tmp_path / "shapes")
    run = tmp_path / "run"
    code = main(["train", "lenet5", "--data", str(tmp_path / "shapes"), "--fit-classes", "--epochs", "6",
                 "--lr", "0.003", *FAST, "--out", str(run), "--json"])
    assert code == 0
    val_accuracy = json.loads(capsys.readouterr().out)["final"]["val_accuracy"]
    assert val_accuracy > 0.5
    preprocess = json.loads((run / "spec.json").read_text())["preprocess"]
    assert preprocess["crop_to_content"] is False and preprocess["ink"] == "dark"  # the files as they are
    data = load_dataset(json.loads((run / "config.json").read_text())["data"])
    paths = _write_pngs(tmp_path / "val", data.val_x)
    allowed = 2 / len(paths) + 1e-9  # resizing 32 -> 28 differs a little between OpenCV and torch
    assert abs(_predict_accuracy(run, paths, data.val_y, capsys) - val_accuracy) <= allowed
