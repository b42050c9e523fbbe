"""``cnnstudio features MODEL IMAGE --out DIR [--layers NAME...]`` (issue 7)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.cli import main


@pytest.fixture
def digit_png(tmp_path):
    import cv2

    img = np.full((64, 64, 3), 255, np.uint8)
    cv2.circle(img, (32, 32), 18, (0, 0, 0), 6)
    path = tmp_path / "zero.png"
    cv2.imwrite(str(path), img)
    return path


def _png_shape(path):
    import cv2

    image = cv2.imread(str(path))
    assert image is not None, path
    return image.shape


def test_template_writes_one_png_per_layer(tmp_path, digit_png, capsys):
    out = tmp_path / "maps"
    assert main(["features", "lenet5", str(digit_png), "--out", str(out)]) == 0
    files = sorted(p.name for p in out.glob("*.png"))
    assert files[0] == "01-c1.png" and len(files) == 12  # LeNet-5's twelve layers
    h, w, c = _png_shape(out / "01-c1.png")
    assert c == 3 and h > 50 and w > 50
    text = capsys.readouterr().out
    assert "6×28×28  c1" in text and "12 PNG file(s)" in text


def test_foreign_onnx_model_chosen_tensors(tmp_path, digit_png, write_plain_onnx):
    model = tmp_path / "plain.onnx"
    write_plain_onnx(model, [None, 3, 32, 32], conv_channels=5, name="plain")  # dynamic batch, RGB, no CNN Studio metadata
    out = tmp_path / "maps"
    assert main(["features", str(model), str(digit_png), "--out", str(out), "--layers", "relu_out", "conv_out"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["01-conv_out.png", "02-relu_out.png"]
    assert _png_shape(out / "02-relu_out.png")[0] > 40


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("vector-model", "an image model takes N x C x H x W"),
        ("bad-image", "is not a readable image"),
        ("missing-image", "does not exist"),
        ("unknown-layer", "no layer or tensor named 'nope'"),
        ("unknown-template", ""),
        ("image-as-model", "zero.png is an image, not a model"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path, digit_png, capsys, case, message, write_plain_onnx):
    import onnx
    from onnx import TensorProto, helper

    model = tmp_path / "plain.onnx"
    write_plain_onnx(model, [1, 1, 16, 16], conv_channels=5, name="plain")
    image = digit_png
    layers: list[str] = []
    if case == "vector-model":
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "vector",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 10])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 10])])
        model = tmp_path / "vector.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(model))
    elif case == "bad-image":
        image = tmp_path / "broken.png"
        image.write_bytes(b"\x89PNG but not really")
    elif case == "missing-image":
        image = tmp_path / "nowhere.png"
    elif case == "unknown-layer":
        layers = ["--layers", "nope"]
    elif case == "unknown-template":
        model = "no-such-template"
    elif case == "image-as-model":  # the arguments swapped
        model = digit_png
    out = tmp_path / "maps"
    assert main(["features", str(model), str(image), "--out", str(out), *layers]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cnnstudio features: error: ")
    assert message in err
    assert not list(out.glob("*.png")) if out.exists() else True


def test_a_corrupt_image_gives_only_our_line_not_opencvs(tmp_path, capfd):
    """OpenCV logs its own decoder errors straight to the process's stderr; the user sees one line."""
    image = tmp_path / "broken.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    assert main(["features", "lenet5", str(image), "--out", str(tmp_path / "maps")]) == 2
    err = capfd.readouterr().err
    assert err.strip().splitlines() == [f"cnnstudio features: error: {image.name} is not a readable image "
                                        "(corrupt or an unsupported format)."]
