"""The upsampling layer types (transposed convolution, upsample): shape maths and parameters against
PyTorch, and ONNX export parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnstudio.core.registry import ShapeError, get_layer_type
from cnnstudio.ml.builder import build_layer


@pytest.mark.parametrize(
    "params, shape",
    [
        ({"out_channels": 4, "kernel_size": 2, "stride": 2}, (3, 5, 7)),
        ({"out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, (6, 8, 8)),
        ({"out_channels": 5, "kernel_size": [3, 5], "stride": [1, 2], "padding": [0, 2], "dilation": 2}, (2, 4, 6)),
        ({"out_channels": 1, "kernel_size": 4, "stride": 3, "padding": 1, "bias": False}, (1, 3, 3)),
    ],
)
def test_transposed_conv_shape_and_parameters_match_torch(params, shape):
    kind = get_layer_type("conv_transpose2d")
    layer = {**kind.defaults(), **params, "type": "conv_transpose2d"}
    out = kind.infer_shape(layer, shape)
    module = build_layer(layer, shape)
    assert tuple(module(torch.zeros(1, *shape)).shape[1:]) == out
    weights, biases = kind.param_count(layer, shape, out)
    assert weights + biases == sum(p.numel() for p in module.parameters())
    assert str(out[1]) in kind.formula(layer, shape)


def test_transposed_conv_refuses_output_padding_not_below_the_stride():
    kind = get_layer_type("conv_transpose2d")
    with pytest.raises(ShapeError, match="output_padding"):
        kind.infer_shape({**kind.defaults(), "stride": 2, "output_padding": 2}, (1, 4, 4))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("factor", [2, [3, 1]])
def test_upsample_shape_matches_torch(mode, factor):
    kind = get_layer_type("upsample")
    layer = {**kind.defaults(), "scale_factor": factor, "mode": mode, "type": "upsample"}
    out = kind.infer_shape(layer, (3, 5, 4))
    module = build_layer(layer, (3, 5, 4))
    assert tuple(module(torch.zeros(1, 3, 5, 4)).shape[1:]) == out
    assert kind.param_count(layer, (3, 5, 4), out) == (0, 0)


def test_an_encoder_decoder_exports_to_onnx_with_parity(tmp_path):
    import onnxruntime as ort

    from cnnstudio.core.inference import infer
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.export import export_onnx

    spec = {
        "format": "cnnstudio-network", "version": 1, "name": "encoder-decoder",
        "input": {"channels": 3, "height": 16, "width": 16}, "classes": ["a", "b"],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"id": "p1", "type": "maxpool2d", "kernel_size": 2},
            {"id": "up1", "type": "conv_transpose2d", "out_channels": 4, "kernel_size": 2, "stride": 2},
            {"id": "up2", "type": "upsample", "scale_factor": 2, "mode": "bilinear"},
            {"id": "p2", "type": "maxpool2d", "kernel_size": 2},
            {"id": "up3", "type": "upsample", "scale_factor": 2},
            {"id": "gap", "type": "global_avgpool"},
            {"id": "fc", "type": "linear", "out_features": 2},
        ],
    }
    summary = infer(spec)
    assert summary.ok and [i.output_shape for i in summary.layers][2:6] == [(4, 16, 16), (4, 32, 32), (4, 16, 16),
                                                                              (4, 32, 32)]
    torch.manual_seed(0)
    model = build_model(spec).eval()
    path = export_onnx(model, model.spec, tmp_path / "ed.onnx")
    x = np.random.default_rng(0).random((2, 3, 16, 16), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
