"""Preprocessing from metadata and the ONNX Runtime model wrapper (ours and foreign models)."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta, Preprocess
from cnnstudio.ml.onnx_model import OnnxModel, available_providers
from cnnstudio.ml.preprocess import load_image, normalize, to_model_input


def _tiny(channels: int = 1, classes: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, classes)
    ).eval()


def _export(model, path, channels=1, props=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, channels, 8, 8),), str(path), input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
        )
    if props:
        proto = onnx.load(str(path))
        for key, value in props.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(path))
    return path


def _meta(**kw):
    base = dict(input_shape=(1, 8, 8), class_names=("a", "b", "c"), preprocess=Preprocess(mean=(0.5,), std=(0.25,)))
    base.update(kw)
    return ModelMeta(**base)


def test_to_model_input_converts_resizes_and_normalises():
    image = np.full((16, 24, 3), 255, np.uint8)
    x = to_model_input(image, _meta())
    assert x.shape == (1, 1, 8, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x, (1.0 - 0.5) / 0.25, rtol=1e-5)
    inverted = to_model_input(image, _meta(preprocess=Preprocess(mean=(0.0,), std=(1.0,), polarity="invert", ink="light")))
    np.testing.assert_allclose(inverted, 0.0, atol=1e-6)
    rgb = to_model_input(np.zeros((8, 8), np.uint8), _meta(input_shape=(3, 8, 8), preprocess=Preprocess(mean=(0.0,) * 3, std=(1.0,) * 3)))
    assert rgb.shape == (1, 3, 8, 8)


def test_normalize_matches_for_numpy_and_torch():
    pre = Preprocess(mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 2.0))
    x = np.random.default_rng(0).random((2, 3, 4, 4), dtype=np.float32)
    np.testing.assert_allclose(normalize(x, pre), normalize(torch.from_numpy(x), pre).numpy(), rtol=1e-6)
    with pytest.raises(UserError, match="mean/std"):
        normalize(np.zeros((1, 2, 4, 4), np.float32), pre)


def test_load_image_reads_and_rejects(tmp_path):
    import cv2

    good = tmp_path / "ok.png"
    bgr = np.zeros((5, 6, 3), np.uint8)
    bgr[..., 2] = 200  # red in BGR
    cv2.imwrite(str(good), bgr)
    rgb = load_image(good)
    assert rgb.shape == (5, 6, 3) and rgb[0, 0, 0] == 200 and rgb[0, 0, 2] == 0
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(UserError, match="not a readable image"):
        load_image(bad)
    with pytest.raises(UserError, match="does not exist"):
        load_image(tmp_path / "missing.jpg")


def test_our_model_metadata_drives_prediction(tmp_path):
    model = _tiny()
    meta = _meta()
    path = _export(model, tmp_path / "ours.onnx", props=meta.to_props())
    runner = OnnxModel(path)
    assert runner.meta.ours and runner.meta.class_names == ("a", "b", "c")
    assert runner.meta.preprocess.mean == (0.5,)
    image = (np.random.default_rng(1).random((8, 8)) * 255).astype(np.uint8)
    pred = runner.predict_image(image, k=2)
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(to_model_input(image, meta))), 1)[0].numpy()
    np.testing.assert_allclose(pred.probabilities, ref, atol=1e-5)
    assert pred.top[0][0] == int(ref.argmax()) and len(pred.top) == 2
    assert pred.label == meta.class_name(pred.top[0][0])
    assert pred.bbox is None
    assert "CPUExecutionProvider" in available_providers()


def test_foreign_model_uses_graph_shape_and_generic_names(tmp_path):
    path = _export(_tiny(channels=3, classes=4), tmp_path / "foreign.onnx", channels=3)
    runner = OnnxModel(path)
    assert not runner.meta.ours
    assert runner.meta.input_shape == (3, 8, 8)
    assert runner.meta.class_names == ("class 0", "class 1", "class 2", "class 3")
    assert runner.predict_image(np.zeros((20, 20, 3), np.uint8)).probabilities.shape == (4,)


def test_bad_models_give_clear_errors(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"definitely not protobuf")
    with pytest.raises(UserError, match="junk.onnx is not an ONNX model"):
        OnnxModel(junk)
    with pytest.raises(UserError, match="does not exist"):
        OnnxModel(tmp_path / "missing.onnx")
    # a non-image model: input (N, 10)
    linear = torch.nn.Linear(10, 2).eval()
    vec = tmp_path / "vector.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(linear, (torch.zeros(1, 10),), str(vec), input_names=["x"], dynamo=False)
    with pytest.raises(UserError, match="image model takes N x C x H x W"):
        OnnxModel(vec)


def test_crop_to_content_centres_and_scales_the_ink():
    from cnnstudio.ml.preprocess import crop_to_content

    page = np.full((200, 300), 240, np.uint8)
    page[20:60, 230:250] = 10  # a small dark stroke near the top-right corner
    crop = crop_to_content(page, dark_ink=True)
    assert crop.shape[0] == crop.shape[1] and 40 <= crop.shape[0] <= 50
    ys, xs = np.where(crop < 128)
    assert abs((ys.min() + ys.max()) / 2 - crop.shape[0] / 2) <= 2
    assert abs((xs.min() + xs.max()) / 2 - crop.shape[1] / 2) <= 2
    blank = np.full((50, 50), 200, np.uint8)
    assert crop_to_content(blank) is not None and crop_to_content(blank).shape == (50, 50)


def test_bundled_model_reads_a_small_off_centre_digit_like_a_framed_one():
    """A digit drawn small in a corner of a big page is predicted like the same digit filling the frame."""
    import cv2

    from cnnstudio.core.paths import models_dir
    from cnnstudio.ml.datasets import load_dataset

    runner = OnnxModel(models_dir() / "lenet5-digits.onnx")
    assert runner.meta.preprocess.crop_to_content and runner.meta.preprocess.polarity == "auto"
    data = load_dataset({"source": "digits"})
    agree = 0
    for i in range(20):
        digit = (255 - data.val_x[i, 0].numpy() * 255).astype(np.uint8)  # dark ink on paper, 28x28
        page = np.full((240, 320), 255, np.uint8)
        page[150:206, 230:286] = cv2.resize(digit, (56, 56), interpolation=cv2.INTER_LINEAR)
        framed = runner.predict_image(digit).top[0][0]
        agree += runner.predict_image(page).top[0][0] == framed
    assert agree >= 17


def test_half_precision_and_fixed_batch_models_are_refused_clearly(tmp_path):
    from onnx import TensorProto, helper

    def identity_model(path, elem, shape):
        graph = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["y"])], "g",
            [helper.make_tensor_value_info("x", elem, shape)], [helper.make_tensor_value_info("y", elem, shape)],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(path))
        return path

    with pytest.raises(UserError, match="32-bit float"):
        OnnxModel(identity_model(tmp_path / "half.onnx", TensorProto.FLOAT16, [1, 1, 8, 8]))
    with pytest.raises(UserError, match="fixed batch of 2"):
        OnnxModel(identity_model(tmp_path / "batch2.onnx", TensorProto.FLOAT, [2, 1, 8, 8]))
