"""The builder against PyTorch: inference equals what torch builds, for templates and random specs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from cnnstudio.core.errors import UserError
from cnnstudio.core.inference import infer
from cnnstudio.core.registry import LAYER_TYPES
from cnnstudio.core.spec import LAYER_ID_PATTERN, RESERVED_IDS, fill_layer_defaults, load_spec
from cnnstudio.core.templates import template_names
from cnnstudio.ml.builder import CUSTOM_MODULES, MinPool2d, Sign, build_layer, build_model, module_class


def _count(module: nn.Module) -> tuple[int, int]:
    weights = sum(p.numel() for name, p in module.named_parameters() if not name.endswith("bias"))
    biases = sum(p.numel() for name, p in module.named_parameters() if name.endswith("bias"))
    return weights, biases


@pytest.mark.parametrize("name", template_names())
def test_templates_match_torch(name):
    torch.manual_seed(0)
    model = build_model(name).eval()
    summary = infer(load_spec(name))
    x = torch.randn(2, *summary.input_shape)
    features = model.forward_features(x)
    assert list(features) == [i.id for i in summary.all_layers]
    for info in summary.all_layers:
        assert tuple(features[info.id].shape) == (2, *info.output_shape), info.id
        assert _count(model.module(info.id)) == (info.weights, info.biases), info.id
    assert sum(p.numel() for p in model.parameters()) == summary.total_params
    out = model(x)
    if summary.task == "localization":
        logits, bbox = out
        assert bbox.shape == (2, 4) and bool(((bbox >= 0) & (bbox <= 1)).all())
        assert torch.equal(bbox, torch.sigmoid(features["box_out"]))
    else:
        logits = out
    assert logits.shape == (2, *summary.output_shape)  # class scores, or the map of a detector or segmenter
    assert torch.equal(logits, features[summary.layers[-1].id])


def test_layers_are_addressable_by_id_and_frozen_layers_do_not_train():
    spec = load_spec("lenet5")
    spec["layers"][0]["trainable"] = False
    spec["layers"][3]["trainable"] = False
    model = build_model(spec)
    assert list(model.layers) == [layer["id"] for layer in spec["layers"]]
    assert isinstance(model.layers["c1"], nn.Conv2d)
    assert not any(p.requires_grad for p in model.layers["c1"].parameters())
    assert not any(p.requires_grad for p in model.layers["c3"].parameters())
    assert all(p.requires_grad for p in model.layers["f5"].parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == infer(spec).trainable_params == 61_706 - 156 - 2416
    localizer = build_model("shapes-localizer")
    assert set(localizer.box_head) == {"box_flat", "box_fc", "box_relu", "box_out"}
    assert localizer.module("box_fc") is localizer.box_head["box_fc"]
    assert [k for k in localizer.state_dict() if k.startswith("box_head.")][0] == "box_head.box_fc.weight"


def test_forward_features_returns_only_the_asked_layers():
    model = build_model("shapes-localizer").eval()
    x = torch.randn(1, 3, 64, 64)
    some = model.forward_features(x, ["conv1", "box_out"])
    assert list(some) == ["conv1", "box_out"]
    assert model.forward_features(x, ["pool1"])["pool1"].shape == (1, 16, 32, 32)
    with pytest.raises(KeyError, match="no layer 'nope'"):
        model.forward_features(x, ["nope"])


def test_invalid_spec_raises_a_user_error_with_every_problem():
    spec = {"input": {"channels": 1, "height": 4, "width": 4}, "classes": ["a", "b"], "layers": [
        {"id": "c1", "type": "conv2d", "kernel_size": 5},
        {"id": "d", "type": "dropout", "p": 3},
    ]}
    with pytest.raises(UserError, match="2 problems") as info:
        build_model(spec)
    assert "5x5 kernel is larger than its 4x4 padded input" in str(info.value)
    assert "p must be a number" in str(info.value)


def test_custom_modules():
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(MinPool2d(2)(x), -nn.functional.max_pool2d(-x, 2))
    assert torch.equal(MinPool2d(2)(x), -nn.functional.max_pool2d(-x, 2))
    assert torch.equal(Sign()(torch.tensor([-2.0, 0.0, 3.0])), torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.equal(CUSTOM_MODULES["GlobalAvgPool2d"]()(x), x.mean(dim=(2, 3)))
    assert module_class("nn.Conv2d") is nn.Conv2d
    used = {LAYER_TYPES[n].torch_module(fill_layer_defaults({"id": "x", "type": n}), (4, 8, 8))[0]
            for n in LAYER_TYPES if n != "linear"}
    assert all(module_class(name) for name in used)


def test_reserved_ids_cover_every_module_dict_attribute():
    names = {n for n in dir(nn.ModuleDict()) if LAYER_ID_PATTERN.match(n)}
    assert names <= RESERVED_IDS


# --- random specs against torch ---------------------------------------------------------------------

pairs = st.integers(1, 4) | st.lists(st.integers(1, 4), min_size=2, max_size=2)


@st.composite
def conv_layers(draw):
    return {
        "type": "conv2d",
        "out_channels": draw(st.sampled_from([1, 2, 3, 4, 6])),
        "kernel_size": draw(pairs),
        "stride": draw(st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=2, max_size=2)),
        "padding": draw(st.integers(0, 3) | st.lists(st.integers(0, 2), min_size=2, max_size=2)
                        | st.sampled_from(["same", "valid"])),
        "padding_mode": draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])),
        "dilation": draw(st.integers(1, 2) | st.lists(st.integers(1, 3), min_size=2, max_size=2)),
        "groups": draw(st.sampled_from([1, 1, 2, 3])),
        "bias": draw(st.booleans()),
    }


@st.composite
def pool_layers(draw):
    kind = draw(st.sampled_from(["maxpool2d", "avgpool2d", "minpool2d"]))
    layer = {
        "type": kind,
        "kernel_size": draw(pairs),
        "padding": draw(st.integers(0, 2) | st.lists(st.integers(0, 2), min_size=2, max_size=2)),
        "ceil_mode": draw(st.booleans()),
    }
    if draw(st.booleans()):
        layer["stride"] = draw(pairs)
    if kind != "avgpool2d":
        layer["dilation"] = draw(st.integers(1, 2))
    else:
        layer["count_include_pad"] = draw(st.booleans())
    return layer


simple_layers = st.sampled_from([
    {"type": "relu"}, {"type": "sigmoid"}, {"type": "tanh"}, {"type": "sign"}, {"type": "gelu"},
    {"type": "gelu", "approximate": "tanh"}, {"type": "leaky_relu", "negative_slope": 0.2},
    {"type": "softmax"}, {"type": "dropout", "p": 0.3}, {"type": "batchnorm2d"},
    {"type": "batchnorm2d", "affine": False}, {"type": "global_avgpool"}, {"type": "flatten"},
    {"type": "linear", "out_features": 3}, {"type": "linear", "out_features": 5, "bias": False},
])


@st.composite
def random_specs(draw):
    layers = draw(st.lists(conv_layers() | pool_layers() | simple_layers, min_size=1, max_size=7))
    layers = [dict(layer, id=f"l{i}", trainable=draw(st.booleans())) for i, layer in enumerate(layers)]
    layers += [{"id": "flat_end", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 3}]
    return {
        "input": {"channels": draw(st.integers(1, 4)), "height": draw(st.integers(1, 14)),
                  "width": draw(st.integers(1, 14))},
        "classes": ["a", "b", "c"],
        "layers": layers,
    }


_MAP_TYPES = {"conv2d", "maxpool2d", "avgpool2d", "minpool2d"}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=random_specs())
def test_random_specs_match_torch(spec):
    summary = infer(spec)
    layers = load_spec(spec)["layers"]
    x = torch.randn(2, *summary.input_shape)
    for layer, info in zip(layers, summary.layers):
        if info.error is None:
            module = build_layer(layer, info.input_shape).eval()
            x = module(x)
            assert tuple(x.shape[1:]) == info.output_shape, (layer, info)
            assert _count(module) == (info.weights, info.biases), layer
            assert all(p.requires_grad == layer["trainable"] for p in module.parameters())
            continue
        if layer["type"] in _MAP_TYPES and len(info.input_shape) == 3:
            # our rule says no: PyTorch must refuse too (when building or running the layer)
            with pytest.raises((RuntimeError, ValueError)):
                build_layer(layer, info.input_shape)(x)
        break
    if summary.ok:
        model = build_model(spec)
        assert sum(p.numel() for p in model.parameters()) == summary.total_params
        assert model.eval()(torch.randn(2, *summary.input_shape)).shape == (2, 3)


def test_a_network_too_big_for_memory_is_a_sentence():
    """LeNet-5 on 10^8 x 10^8 images: f5 alone would need exabytes (more than any address space)."""
    spec = load_spec("lenet5")
    spec["input"].update(height=100_000_000, width=100_000_000)
    with pytest.raises(UserError, match="do not fit in this computer's memory"):
        build_model(spec)
