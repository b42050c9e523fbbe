"""``cnnstudio train --task detection`` and ``cnnstudio predict`` printing one line per object."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main


@pytest.mark.slow
def test_train_a_detector_then_predict_prints_its_objects(tmp_path, capsys):
    import cv2

    spec = {
        "format": "cnnstudio-network", "version": 1, "name": "tiny",
        "input": {"channels": 3, "height": 32, "width": 32}, "classes": ["a", "b"],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1},
            {"id": "r1", "type": "relu"},
            {"id": "flat", "type": "flatten"},
            {"id": "fc", "type": "linear", "out_features": 2},
        ],
    }
    (tmp_path / "tiny.json").write_text(json.dumps(spec))
    out = tmp_path / "run"
    code = main(["train", str(tmp_path / "tiny.json"), "--task", "detection", "--data", "multishapes", "--samples", "40",
                 "--epochs", "1", "--fit-classes", "--device", "cpu", "--threads", "1", "--batch-size", "16",
                 "--out", str(out), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["status"] == "completed" and "val_map50" in result["final"]
    trained = json.loads((out / "spec.json").read_text())
    trained = trained.get("spec", trained)
    assert trained["task"] == "detection" and trained["layers"][-1]["type"] == "detect_head"
    image = np.zeros((64, 64, 3), np.uint8)
    cv2.circle(image, (20, 20), 8, (0, 255, 255), -1)
    cv2.imwrite(str(tmp_path / "one.png"), image)
    assert main(["predict", str(out), str(tmp_path / "one.png"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["task"] == "detection"
    item = printed["predictions"][0]
    assert "objects" in item and all(set(o) == {"class", "class_index", "score", "box"} for o in item["objects"])
    assert main(["predict", str(out), str(tmp_path / "one.png")]) == 0
    text = capsys.readouterr().out
    assert "objects (boxes as fractions of the image)" in text


def test_train_refuses_a_detector_on_data_without_boxes(tmp_path, capsys):
    code = main(["train", "detector", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "detects objects, but the data has no boxes" in capsys.readouterr().err
