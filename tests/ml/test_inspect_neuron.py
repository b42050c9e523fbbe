"""A feature-map neuron taken apart for the step-through: the patch convolved with the kernel gives its value."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.ops import conv_trace
from cnnstudio.ml.inspect.neuron import conv_neuron, is_conv_layer


def _check(model, x, layer, channel, row, col):
    neuron = conv_neuron(model, x, layer, channel, row, col)
    value = model.analyse(x).features[layer][channel, row, col]
    assert neuron.value == pytest.approx(float(value), abs=1e-6)
    patch = neuron.patch()
    assert patch.input.shape[1] <= 12 and patch.input.shape[2] <= 12
    trace = conv_trace(patch.input, patch.kernel, patch.bias, patch.stride, 0, dilation=patch.dilation)
    assert trace.step(patch.step).total == pytest.approx(float(value), abs=1e-4)
    return neuron, patch


def test_bundled_onnx_neurons_at_corners_centre_and_deeper_layer():
    from cnnstudio.ml.inspect.models import open_bundled

    model = open_bundled()
    x = np.random.default_rng(0).normal(size=(1, 1, 28, 28)).astype(np.float32)
    c1, c3 = [t.name for t in model.tensors if t.op == "Conv"]
    assert is_conv_layer(model, c1) and not is_conv_layer(model, model.tensors[1].name)
    neuron, patch = _check(model, x, c1, 3, 0, 0)  # the corner: the patch holds the layer's zero padding
    assert neuron.padding == (2, 2, 2, 2) and patch.rows[0] == -2 and np.all(patch.input[:, :2, :] == 0)
    assert neuron.kernel.shape == (1, 5, 5) and "5×5 convolution, stride 1, padding 2" in neuron.describe()
    _check(model, x, c1, 0, 14, 13)
    _check(model, x, c1, 5, 27, 27)
    neuron, patch = _check(model, x, c3, 7, 4, 9)  # six input channels, the previous pool's output
    assert patch.input.shape[0] == 6 and neuron.layer_input.shape == (6, 14, 14)
    with pytest.raises(UserError, match="Relu"):
        conv_neuron(model, x, model.tensors[1].name, 0, 0, 0)
    with pytest.raises(UserError, match="no neuron"):
        conv_neuron(model, x, c1, 6, 0, 0)


def test_torch_model_with_stride_and_dilation():
    import torch

    from cnnstudio.ml.inspect.models import from_torch

    spec = {
        "format": "cnnstudio-network", "version": 1, "name": "strided", "input": {"channels": 2, "height": 15, "width": 15},
        "task": "classification", "classes": ["a", "b"], "preprocess": {"mean": [0.5], "std": [0.5]},
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2},
            {"id": "flat", "type": "flatten"},
            {"id": "out", "type": "linear", "out_features": 2},
        ],
    }
    from cnnstudio.ml.builder import build_model

    torch.manual_seed(0)
    model = from_torch(build_model(spec), spec)
    x = np.random.default_rng(1).normal(size=(1, 2, 15, 15)).astype(np.float32)
    for channel, row, col in ((0, 0, 0), (3, 3, 2), (2, 6, 6)):
        neuron, patch = _check(model, x, "c1", channel, row, col)
        assert neuron.stride == (2, 2) and neuron.dilation == (2, 2) and patch.stride == 2
