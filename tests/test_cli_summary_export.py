"""``cnnstudio summary`` and ``cnnstudio export`` end to end through the CLI entry point."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import torch

from cnnstudio.cli import main as cli_main
from cnnstudio.core.spec import load_spec


def test_summary_prints_the_lenet5_table(capsys):
    assert cli_main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 61,706" in out
    assert "Trainable params: 61,706" in out
    header = next(line for line in out.splitlines() if line.startswith("Layer"))
    assert header.split() == ["Layer", "Type", "Output", "shape", "Params", "Mult-adds", "Trainable"]
    c1 = next(line for line in out.splitlines() if line.startswith("c1 "))
    assert c1.split() == ["c1", "conv2d", "6x28x28", "156", "117,600", "yes"]


def test_summary_json(capsys, tmp_path):
    assert cli_main(["summary", "shapes-localizer", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 113_177 == data["trainable_params"]
    assert data["mult_adds"] > 0
    first = data["layers"][0]
    assert {"id", "type", "output_shape", "params"} <= set(first)
    assert first["output_shape"] == [16, 64, 64]
    assert data["layers"][-1] == {"id": "box_out", "type": "linear", "branch": "box_head", "output_shape": [4],
                                  "params": 260, "trainable": True, "mult_adds": 256}
    spec = load_spec("lenet5")
    spec["layers"][0]["trainable"] = False
    path = tmp_path / "frozen.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    assert cli_main(["summary", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trainable_params"] == 61_706 - 156 and data["frozen_params"] == 156


def test_invalid_spec_exits_2_with_one_line_naming_every_problem(capsys, tmp_path):
    spec = {
        "format": "cnnstudio-network", "version": 1,
        "input": {"channels": 1, "height": 8, "width": 8}, "classes": ["a", "b"],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 5},
            {"id": "c3", "type": "conv2d", "out_channels": 4, "kernel_size": 5},
            {"id": "d", "type": "dropout", "p": 7},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    assert cli_main(["summary", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnstudio summary: error: ")  # the README's promise
    assert "has 2 problems" in lines[0]
    assert "conv2d 'c3': 5x5 kernel is larger than its 4x4 padded input." in lines[0]
    assert "dropout 'd': p must be a number from 0 to 1 (found 7)." in lines[0]


def test_unreadable_specs_exit_2(capsys, tmp_path):
    assert cli_main(["summary", "no-such-template"]) == 2
    assert "no network template 'no-such-template'" in capsys.readouterr().err
    corrupt = tmp_path / "x.json"
    corrupt.write_text("{", encoding="utf-8")
    assert cli_main(["summary", str(corrupt)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err


def test_export_a_template_to_onnx_and_torch(capsys, tmp_path):
    onnx_path, py_path = tmp_path / "out" / "lenet.onnx", tmp_path / "lenet.py"
    assert cli_main(["export", "lenet5", "--onnx", str(onnx_path), "--torch", str(py_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {onnx_path}" in out and "fresh weights, seed 3" in out and f"Wrote {py_path}" in out
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["class_names"]) == [str(i) for i in range(10)]
    assert json.loads(meta["input_shape"]) == [1, 28, 28]
    assert session.run(None, {"input": np.zeros((4, 1, 28, 28), np.float32)})[0].shape == (4, 10)
    assert "class LeNet5(nn.Module)" in py_path.read_text(encoding="utf-8")


def test_export_a_run_folder_uses_its_latest_checkpoint(capsys, tmp_path):
    from cnnstudio.ml.builder import build_model

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "spec.json").write_text(json.dumps(load_spec("lenet5")), encoding="utf-8")
    torch.manual_seed(11)
    trained = build_model("lenet5").eval()
    torch.save(trained.state_dict(), run / "checkpoints" / "last.pt")
    out_path = tmp_path / "run.onnx"
    assert cli_main(["export", str(run), "--onnx", str(out_path)]) == 0
    assert "weights of last.pt" in capsys.readouterr().out
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    session = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = trained(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(session.run(None, {"input": x})[0], expected, atol=1e-4)


def test_export_mistakes_exit_2(capsys, tmp_path):
    assert cli_main(["export", "lenet5"]) == 2
    assert "--onnx OUT.onnx and/or --torch OUT.py" in capsys.readouterr().err
    empty = tmp_path / "empty-run"
    empty.mkdir()
    assert cli_main(["export", str(empty), "--onnx", str(tmp_path / "x.onnx")]) == 2
    assert "not a training run" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert cli_main(["export", "lenet5", "--torch", str(blocker / "net.py")]) == 2
    assert "Cannot write" in capsys.readouterr().err
