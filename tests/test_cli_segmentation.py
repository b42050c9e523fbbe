"""``cnnstudio train --task segmentation`` and ``cnnstudio predict`` writing a mask PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.cli import main


@pytest.mark.slow
def test_train_a_segmenter_then_predict_writes_the_mask_png(tmp_path, capsys):
    import cv2

    spec = {
        "format": "cnnstudio-network", "version": 1, "name": "tiny",
        "input": {"channels": 3, "height": 32, "width": 32}, "classes": ["a", "b"],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"id": "r1", "type": "relu"},
            {"id": "p1", "type": "maxpool2d", "kernel_size": 2},
            {"id": "up", "type": "upsample", "scale_factor": 2},
            {"id": "flat", "type": "flatten"},
            {"id": "fc", "type": "linear", "out_features": 2},
        ],
    }
    (tmp_path / "tiny.json").write_text(json.dumps(spec))
    out = tmp_path / "run"
    code = main(["train", str(tmp_path / "tiny.json"), "--task", "segmentation", "--data", "scenes", "--samples", "30",
                 "--epochs", "1", "--fit-classes", "--device", "cpu", "--threads", "1", "--batch-size", "16",
                 "--out", str(out), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["status"] == "completed" and "val_miou" in result["final"]
    image = np.zeros((50, 70, 3), np.uint8)
    cv2.rectangle(image, (10, 10), (30, 30), (0, 200, 255), -1)
    cv2.imwrite(str(tmp_path / "scene.png"), image)
    masks = tmp_path / "masks"
    masks.mkdir()
    assert main(["predict", str(out), str(tmp_path / "scene.png"), "--masks", str(masks), "--json"]) == 0
    item = json.loads(capsys.readouterr().out)["predictions"][0]
    mask = cv2.imread(item["mask"], cv2.IMREAD_UNCHANGED)
    assert mask.shape == (50, 70) and mask.max() <= 5
    assert set(item["pixels"]) == {"background", "circle", "square", "triangle", "star", "cross"}
    assert main(["predict", str(out), str(tmp_path / "scene.png"), "--masks", str(masks)]) == 0
    assert "scene.mask.png" in capsys.readouterr().out
    assert main(["predict", str(out), str(tmp_path / "scene.png"), "--masks", str(tmp_path / "none")]) == 2
