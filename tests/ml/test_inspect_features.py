"""Feature capture for our PyTorch models and for ONNX models without our metadata (issue 7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnstudio.core.errors import UserError
from cnnstudio.ml.inspect.features import OnnxFeatures, capture_torch
from cnnstudio.ml.inspect.models import from_onnx, from_torch, open_model
from cnnstudio.ml.inspect.render import auto_level, render_grid


class TinyNet(nn.Module):
    """Our model layout: layers in a ModuleDict keyed by id, applied in order."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.layers = nn.ModuleDict(
            {
                "c1": nn.Conv2d(channels, 4, 3, padding=1),
                "a1": nn.ReLU(),
                "s2": nn.MaxPool2d(2),
                "flat": nn.Flatten(),
                "out": nn.Linear(4 * 4 * 4, 3),
            }
        )

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


TINY_SPEC_META = {"input": {"channels": 1, "height": 8, "width": 8}, "classes": ["a", "b", "c"], "name": "tiny"}


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return TinyNet().eval()


@pytest.fixture(scope="module")
def exported(tiny, tmp_path_factory):
    """The tiny model exported by torch.onnx.export with no CNN Studio metadata ("another exporter")."""
    path = tmp_path_factory.mktemp("onnx") / "plain.onnx"
    torch.onnx.export(tiny, (torch.zeros(1, 1, 8, 8),), str(path), input_names=["input"], output_names=["logits"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
    return path


def test_capture_torch_returns_every_layer_in_order(tiny):
    x = torch.rand(1, 1, 8, 8)
    feats, out = capture_torch(tiny, x)
    assert list(feats) == ["c1", "a1", "s2", "flat", "out"]
    assert feats["c1"].shape == (4, 8, 8) and feats["s2"].shape == (4, 4, 4) and feats["flat"].shape == (64,)
    with torch.no_grad():
        expected_c1 = tiny.layers["c1"](x)[0].numpy()
        np.testing.assert_allclose(feats["c1"], expected_c1, atol=1e-6)
        np.testing.assert_allclose(out.numpy(), tiny(x).numpy(), atol=1e-6)
    # hooks are removed afterwards
    assert all(not m._forward_hooks for m in tiny.layers.values())


def test_capture_torch_selected_ids_and_unknown_id(tiny):
    feats, _ = capture_torch(tiny, np.zeros((1, 1, 8, 8), np.float32), ["a1"])
    assert list(feats) == ["a1"]
    with pytest.raises(UserError, match="no layer named nope"):
        capture_torch(tiny, np.zeros((1, 1, 8, 8), np.float32), ["nope"])


def test_inspect_model_from_torch_lists_shapes_and_predicts(tiny):
    model = from_torch(tiny, TINY_SPEC_META)
    assert [(t.name, t.shape) for t in model.tensors][:3] == [("c1", (4, 8, 8)), ("a1", (4, 8, 8)), ("s2", (4, 4, 4))]
    assert model.first_conv() == "c1"
    assert model.tensor("c1").spatial and not model.tensor("flat").spatial
    analysis = model.analyse(np.random.default_rng(1).random((1, 1, 8, 8), dtype=np.float32))
    assert analysis.probabilities.shape == (3,)
    assert analysis.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert analysis.top(model.meta, 2)[0][1] in ("a", "b", "c")


def test_onnx_from_another_exporter_matches_torch(tiny, exported):
    model = from_onnx(exported)
    assert model.kind == "onnx"
    assert not model.meta.ours  # no CNN Studio metadata: read from the graph
    assert model.meta.input_shape == (1, 8, 8)
    assert model.meta.class_names == ("class 0", "class 1", "class 2")
    ops = [t.op for t in model.tensors]
    assert ops[:3] == ["Conv", "Relu", "MaxPool"]
    conv = model.tensors[0]
    assert conv.shape == (4, 8, 8) and model.tensors[2].shape == (4, 4, 4)
    x = np.random.default_rng(2).random((1, 1, 8, 8), dtype=np.float32)
    analysis = model.analyse(x)
    torch_feats, logits = capture_torch(tiny, x)
    np.testing.assert_allclose(analysis.features[conv.name], torch_feats["c1"], atol=1e-5)
    np.testing.assert_allclose(analysis.features[model.tensors[2].name], torch_feats["s2"], atol=1e-5)
    expected = torch.softmax(logits, dim=1)[0].numpy()
    np.testing.assert_allclose(analysis.probabilities, expected, atol=1e-5)
    # conv kernels come from the ONNX initializers
    kernels = model.conv_kernels()
    np.testing.assert_allclose(next(iter(kernels.values())), tiny.layers["c1"].weight.detach().numpy())
    # embeddings: the input of the final Gemm, in batches
    batch = np.random.default_rng(3).random((5, 1, 8, 8), dtype=np.float32)
    emb = model.embed_batch(batch, batch_size=2)
    with torch.no_grad():
        ref = tiny.layers["flat"](tiny.layers["s2"](tiny.layers["a1"](tiny.layers["c1"](torch.from_numpy(batch)))))
    np.testing.assert_allclose(emb, ref.numpy(), atol=1e-5)


def test_handmade_onnx_model_intermediate_tensors(tmp_path, write_plain_onnx):
    path = tmp_path / "handmade.onnx"
    w = write_plain_onnx(path, (1, 1, 6, 6))
    feats = OnnxFeatures(path)
    assert [(t.name, t.op, t.shape) for t in feats.tensors] == [
        ("conv_out", "Conv", (2, 6, 6)), ("relu_out", "Relu", (2, 6, 6)),
        ("gap_out", "GlobalAveragePool", (2, 1, 1)), ("flat_out", "Flatten", (2,)), ("scores", "Gemm", (2,)),
    ]
    x = np.random.default_rng(0).random((1, 1, 6, 6), dtype=np.float32)
    values = feats.run(x, ["relu_out"])
    ref = torch.relu(torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1))[0].numpy()
    np.testing.assert_allclose(values["relu_out"][0], ref, atol=1e-5)
    assert "scores" in values  # the model's own outputs always come back
    model = from_onnx(path)
    assert model.first_conv() == "conv_out"
    assert model.meta.input_shape == (1, 6, 6)
    # a fixed batch of one still embeds a larger batch, one sample at a time
    assert model.embed_batch(np.zeros((3, 1, 6, 6), np.float32)).shape == (3, 2)


def test_non_image_and_corrupt_onnx_models_give_clear_errors(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "vector",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 10])],
    )
    vec = tmp_path / "vector.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(vec))
    with pytest.raises(UserError, match="image model"):
        from_onnx(vec)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x00\x01 definitely not protobuf" * 10)
    with pytest.raises(UserError, match="corrupt.onnx"):
        open_model(corrupt)
    with pytest.raises(UserError, match="does not exist"):
        open_model(tmp_path / "missing.onnx")


def test_render_grid_levels_each_channel_and_hit_tests():
    maps = np.stack([np.arange(16, dtype=np.float32).reshape(4, 4), np.full((4, 4), 3.0), -1000 * np.eye(4)])
    levelled = auto_level(maps)
    assert levelled[0].min() == 0 and levelled[0].max() == 255
    assert (levelled[1] == 0).all()  # constant channel: lowest colour, no division by zero
    assert levelled[2].min() == 0 and levelled[2].max() == 255
    image, layout = render_grid(maps, tile=32, labels=False)
    assert image.dtype == np.uint8 and image.shape[2] == 3
    assert len(layout.rects) == 3
    x, y, w, h = layout.rects[2]
    assert (w, h) == (32, 32)
    assert layout.tile_at(x + 1, y + 1) == 2 and layout.tile_at(0, 0) is None
    # tile 0 is a ramp: its top-left pixel has the colour map's first colour, bottom-right its last
    from cnnstudio.ml.inspect.render import colormap

    x0, y0, w0, h0 = layout.rects[0]
    assert tuple(image[y0, x0]) == tuple(colormap("viridis")[0])
    assert tuple(image[y0 + h0 - 1, x0 + w0 - 1]) == tuple(colormap("viridis")[255])
    strip, strip_layout = render_grid(np.arange(10, dtype=np.float32))
    assert len(strip_layout.rects) == 1 and strip.shape[1] >= 500


def test_our_onnx_export_bundled_fallback_labels_and_saliency_twin(tmp_path, monkeypatch):
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.export import export_onnx
    from cnnstudio.ml.inspect import models
    from cnnstudio.ml.inspect.saliency import grad_cam, torch_twin

    missing = tmp_path / "nowhere" / "lenet5-digits.onnx"
    monkeypatch.setattr(models, "bundled_model_path", lambda: missing)
    fallback = models.open_bundled(load_spec("lenet5"))
    assert fallback.kind == "torch" and "lenet5-digits.onnx is missing" in fallback.note

    spec = load_spec("lenet5")
    torch.manual_seed(1)
    net = build_model(spec).eval()
    path = tmp_path / "lenet5-digits.onnx"
    export_onnx(net, spec, path)
    monkeypatch.setattr(models, "bundled_model_path", lambda: path)
    bundled = models.open_bundled()
    assert bundled.kind == "onnx" and bundled.meta.ours and bundled.note == ""
    assert bundled.meta.class_names == tuple(str(i) for i in range(10))
    assert bundled.label(bundled.first_conv()) == "c1"
    assert bundled.resolve("c3") == next(t.name for t in bundled.tensors if bundled.label(t.name) == "c3")
    x = np.random.default_rng(4).random((1, 1, 28, 28), dtype=np.float32)
    feats, _ = capture_torch(net, x)
    analysis = bundled.analyse(x)
    np.testing.assert_allclose(analysis.features[bundled.resolve("a3")], feats["a3"], atol=1e-5)
    twin = torch_twin(bundled)  # weights loaded back from the ONNX initializers by name
    assert twin is not None
    np.testing.assert_allclose(grad_cam(twin, x).heat, grad_cam(net, x).heat, atol=1e-5)
