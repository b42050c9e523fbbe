"""One check of what a model accepts: ``predict``, ``live`` and ``features`` (and Inspect/Live, which
open models through the same classes) refuse the same hand-made ONNX models with the same one line."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.cli import main


def write_model(path, shape, elem: str = "FLOAT", channels_last: bool = False, inputs: int = 1,
                identity_weights: bool = False) -> str:
    """A small ONNX classifier made with onnx.helper: [Cast] -> [Transpose] -> Conv -> Relu -> GAP -> Gemm."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    c = shape[3] if channels_last else shape[1]
    weights = rng.normal(size=(2, c if isinstance(c, int) else 1, 3, 3)).astype(np.float32)
    nodes, x = [], "image"
    if elem != "FLOAT":
        nodes.append(helper.make_node("Cast", [x], ["as_float"], to=TensorProto.FLOAT))
        x = "as_float"
    if channels_last:
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    w = "w"
    if identity_weights:  # what some exporters emit for shared weights: a copy, not a layer
        nodes.append(helper.make_node("Identity", ["w"], ["w_copy"]))
        w = "w_copy"
    nodes += [
        helper.make_node("Conv", [x, w], ["conv_out"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv_out"], ["relu_out"]),
        helper.make_node("GlobalAveragePool", ["relu_out"], ["gap_out"]),
        helper.make_node("Flatten", ["gap_out"], ["flat_out"]),
        helper.make_node("Gemm", ["flat_out", "fc"], ["scores"], transB=1),
    ]
    graph_inputs = [helper.make_tensor_value_info("image", getattr(TensorProto, elem), list(shape))]
    graph_inputs += [helper.make_tensor_value_info(f"extra{i}", TensorProto.FLOAT, [1]) for i in range(inputs - 1)]
    graph = helper.make_graph(
        nodes, "handmade", graph_inputs, [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [shape[0], 2])],
        initializer=[numpy_helper.from_array(weights, "w"),
                     numpy_helper.from_array(rng.normal(size=(2, 2)).astype(np.float32), "fc")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


@pytest.fixture
def image(tmp_path) -> str:
    import cv2

    page = np.full((40, 40), 250, np.uint8)
    cv2.putText(page, "3", (8, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    cv2.imwrite(str(tmp_path / "three.png"), page)
    return str(tmp_path / "three.png")


REFUSED = [
    ("fixed-batch-2", dict(shape=[2, 1, 28, 28]), "fixed batch of 2"),
    ("uint8", dict(shape=[1, 1, 28, 28], elem="UINT8"), "takes uint8 input"),
    ("int64", dict(shape=[1, 1, 28, 28], elem="INT64"), "takes int64 input"),
    ("channels-last", dict(shape=[1, 28, 28, 3], channels_last=True), "takes channels-last input"),
    ("dynamic-size", dict(shape=["N", 1, "H", "W"]), "(N x 1 x ? x ?) is not fixed"),
    ("two-inputs", dict(shape=[1, 1, 28, 28], inputs=2), "takes 2 inputs"),
]


@pytest.mark.parametrize(("case", "kwargs", "words"), REFUSED, ids=[c[0] for c in REFUSED])
@pytest.mark.parametrize("command", ["predict", "features", "live"])
def test_every_command_refuses_the_same_models_with_the_same_line(command, case, kwargs, words, tmp_path, image,
                                                                  capsys):
    model = write_model(tmp_path / f"{case}.onnx", **kwargs)
    args = {
        "predict": ["predict", model, image],
        "features": ["features", model, image, "--out", str(tmp_path / "maps")],
        "live": ["live", "--headless", "--model", model, "--source", str(tmp_path), "--max-frames", "1"],
    }[command]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cnnstudio {command}: error: {case}.onnx"), lines
    assert words in lines[0]
    if case == "channels-last":
        assert "input channels" not in lines[0]  # not "28 input channels"
    assert not (tmp_path / "maps").exists() or not list((tmp_path / "maps").iterdir())


def test_the_gui_paths_use_the_same_check(tmp_path):
    """Inspect opens ONNX files with open_model, Live with load_runner: both refuse as the CLI does."""
    from cnnstudio.core.errors import UserError
    from cnnstudio.ml.inspect.models import open_model
    from cnnstudio.ml.video.runners import load_runner

    model = write_model(tmp_path / "batch2.onnx", [2, 1, 28, 28])
    for opener in (open_model, load_runner):
        with pytest.raises(UserError, match="fixed batch of 2"):
            opener(model)


def test_weight_copies_are_not_layers(tmp_path, image, capsys):
    model = write_model(tmp_path / "copies.onnx", [1, 1, 28, 28], identity_weights=True)
    assert main(["features", model, image, "--out", str(tmp_path / "maps")]) == 0
    out = capsys.readouterr().out
    assert "w_copy" not in out and "conv_out" in out
    assert main(["features", model, image, "--out", str(tmp_path / "maps"), "--layers", "nope"]) == 2
    err = capsys.readouterr().err
    assert "it has conv_out" in err and "w_copy" not in err
