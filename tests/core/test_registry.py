"""The layer registry: schemas, output-size rules as tables (Keras style), descriptions and formulas."""

from __future__ import annotations

import pytest

from cnnstudio.core.registry import (
    CATEGORIES,
    LAYER_TYPES,
    PARAM_KINDS,
    ParamSpec,
    ShapeError,
    categories,
    conv_output_size,
    describe,
    format_shape,
    formula,
    get_layer_type,
    pool_output_size,
)
from cnnstudio.core.spec import fill_layer_defaults

EXPECTED_TYPES = {
    "conv2d", "maxpool2d", "avgpool2d", "minpool2d", "global_avgpool", "batchnorm2d", "dropout", "relu",
    "leaky_relu", "sigmoid", "tanh", "sign", "gelu", "softmax", "flatten", "linear", "detect_head",
    "conv_transpose2d", "upsample",
}


def test_every_required_type_is_registered_with_a_valid_schema():
    assert set(LAYER_TYPES) == EXPECTED_TYPES
    for name, layer_type in LAYER_TYPES.items():
        assert layer_type.name == name
        assert layer_type.category in CATEGORIES
        assert layer_type.title and layer_type.help
        for spec in layer_type.params:
            assert spec.kind in PARAM_KINDS, (name, spec.name)
            assert spec.help, (name, spec.name)
            assert spec.check(spec.default) is None, (name, spec.name)
            if spec.kind == "choice":
                assert spec.default in spec.choices


def test_param_help_of_sizes_states_the_formula():
    conv = get_layer_type("conv2d")
    assert "floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1" in conv.param("kernel_size").help
    assert "out_channels * in_channels/groups * kernel_h * kernel_w" in conv.help


def test_conv2d_schema_follows_pytorch_names_and_defaults():
    conv = get_layer_type("conv2d")
    assert conv.param_names == (
        "out_channels", "kernel_size", "stride", "padding", "padding_mode", "dilation", "groups", "bias"
    )
    assert conv.param("padding_mode").choices == ("zeros", "reflect", "replicate", "circular")
    assert (conv.param("stride").default, conv.param("padding").default, conv.param("dilation").default) == (1, 0, 1)
    assert conv.param("groups").default == 1 and conv.param("bias").default is True
    assert get_layer_type("linear").param_names == ("out_features", "bias")
    assert get_layer_type("leaky_relu").param("negative_slope").default == 0.01
    assert get_layer_type("dropout").param("p").default == 0.5
    assert get_layer_type("batchnorm2d").param("eps").default == 1e-5


def test_categories_group_every_type_once_in_palette_order():
    groups = categories()
    assert list(groups) == list(CATEGORIES)
    names = [t.name for types in groups.values() for t in types]
    assert sorted(names) == sorted(LAYER_TYPES)
    assert [t.name for t in groups["Pooling"]] == ["maxpool2d", "avgpool2d", "minpool2d", "global_avgpool"]


def test_unknown_type_is_a_clear_key_error():
    with pytest.raises(KeyError, match="Unknown layer type 'conv3d'"):
        get_layer_type("conv3d")


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [
        (28, 5, 1, 2, 1, 28),
        (28, 5, 1, 0, 1, 24),
        (32, 3, 2, 1, 1, 16),
        (7, 3, 2, 0, 1, 3),
        (10, 3, 1, 0, 2, 6),
        (5, 5, 1, 0, 1, 1),
        (4, 5, 1, 0, 1, 0),
        (224, 7, 2, 3, 1, 112),
    ],
)
def test_conv_output_size_table(size, kernel, stride, padding, dilation, expected):
    assert conv_output_size(size, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "ceil", "expected"),
    [
        (28, 2, 2, 0, 1, False, 14),
        (5, 2, 2, 0, 1, False, 2),
        (5, 2, 2, 0, 1, True, 3),
        (6, 3, 2, 1, 1, True, 4),  # the last window would start in the padding: dropped
        (7, 3, 2, 1, 1, True, 4),
        (10, 3, 3, 0, 2, True, 3),
        (1, 1, 2, 0, 1, True, 1),
    ],
)
def test_pool_output_size_table(size, kernel, stride, padding, dilation, ceil, expected):
    assert pool_output_size(size, kernel, stride, padding, dilation, ceil) == expected


def _layer(kind, **params):
    return fill_layer_defaults({"id": "x", "type": kind, **params})


@pytest.mark.parametrize(
    ("layer", "shape", "expected"),
    [
        (_layer("conv2d", out_channels=6, kernel_size=5, padding=2), (1, 28, 28), (6, 28, 28)),
        (_layer("conv2d", out_channels=4, kernel_size=[3, 5], padding="same"), (2, 9, 11), (4, 9, 11)),
        (_layer("conv2d", out_channels=4, kernel_size=4, padding="same", dilation=2), (2, 9, 11), (4, 9, 11)),
        (_layer("conv2d", out_channels=4, kernel_size=3, padding="valid", stride=[2, 1]), (2, 9, 11), (4, 4, 9)),
        (_layer("conv2d", out_channels=6, kernel_size=3, groups=3), (3, 5, 5), (6, 3, 3)),
        (_layer("maxpool2d"), (6, 28, 28), (6, 14, 14)),
        (_layer("maxpool2d", kernel_size=3), (6, 9, 9), (6, 3, 3)),
        (_layer("avgpool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 6, 6), (2, 4, 4)),
        (_layer("minpool2d", kernel_size=2, stride=1), (1, 4, 5), (1, 3, 4)),
        (_layer("global_avgpool"), (64, 4, 4), (64,)),
        (_layer("flatten"), (16, 5, 5), (400,)),
        (_layer("flatten"), (84,), (84,)),
        (_layer("linear", out_features=120), (400,), (120,)),
        (_layer("softmax"), (10,), (10,)),
        (_layer("batchnorm2d"), (8, 3, 3), (8, 3, 3)),
    ],
)
def test_shape_rules(layer, shape, expected):
    assert LAYER_TYPES[layer["type"]].infer_shape(layer, shape) == expected


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (_layer("conv2d", kernel_size=5), (1, 4, 4), "5x5 kernel is larger than its 4x4 padded input"),
        (_layer("conv2d", kernel_size=3, dilation=3), (1, 6, 6), "dilated 7x7 kernel is larger than its 6x6"),
        (_layer("conv2d", kernel_size=3, stride=2, padding="same"), (1, 6, 6), "padding 'same' needs stride 1"),
        (_layer("conv2d", out_channels=4, groups=3), (3, 6, 6), "4 filters cannot be split into 3 groups"),
        (_layer("conv2d", out_channels=4, groups=2), (3, 6, 6), "3 input channels cannot be split into 2 groups"),
        (_layer("conv2d", padding=3, padding_mode="reflect"), (1, 3, 3), "reflect padding must be smaller"),
        (_layer("conv2d"), (120,), "needs a feature map"),
        (_layer("maxpool2d", kernel_size=2, padding=2), (1, 8, 8), "more than half its 2x2 window"),
        (_layer("avgpool2d", kernel_size=5), (1, 4, 4), "5x5 window is larger than its 4x4 padded input"),
        (_layer("linear"), (16, 5, 5), "add a flatten layer before it"),
        (_layer("batchnorm2d"), (10,), "needs a feature map"),
        (_layer("global_avgpool"), (10,), "needs a feature map"),
    ],
)
def test_shape_rule_errors_say_what_is_wrong(layer, shape, message):
    with pytest.raises(ShapeError, match=message.replace("(", r"\(")):
        LAYER_TYPES[layer["type"]].infer_shape(layer, shape)


def test_param_counts_and_mult_adds():
    conv = _layer("conv2d", out_channels=16, kernel_size=5)
    conv_type = LAYER_TYPES["conv2d"]
    assert conv_type.param_count(conv, (6, 14, 14), (16, 10, 10)) == (2400, 16)
    assert conv_type.mult_adds(conv, (6, 14, 14), (16, 10, 10)) == 240_000
    grouped = _layer("conv2d", out_channels=6, kernel_size=3, groups=3, bias=False)
    assert conv_type.param_count(grouped, (3, 5, 5), (6, 3, 3)) == (54, 0)
    linear = _layer("linear", out_features=84)
    assert LAYER_TYPES["linear"].param_count(linear, (120,), (84,)) == (10080, 84)
    assert LAYER_TYPES["batchnorm2d"].param_count(_layer("batchnorm2d"), (8, 3, 3), (8, 3, 3)) == (8, 8)
    assert LAYER_TYPES["batchnorm2d"].param_count(_layer("batchnorm2d", affine=False), (8, 3, 3), (8, 3, 3)) == (0, 0)
    assert LAYER_TYPES["relu"].param_count(_layer("relu"), (8,), (8,)) == (0, 0)


def test_describe():
    assert describe({"id": "c1", "type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2}) == (
        "conv 5x5, 6 filters, stride 1, pad 2"
    )
    assert describe({"type": "conv2d", "out_channels": 8, "kernel_size": [3, 5], "padding": "same",
                     "padding_mode": "reflect", "groups": 2, "bias": False}) == (
        "conv 3x5, 8 filters, stride 1, pad same, reflect padding, 2 groups, no bias"
    )
    assert describe({"type": "maxpool2d", "kernel_size": 3}) == "max pool 3x3, stride 3"
    assert describe({"type": "linear", "out_features": 84}) == "dense, 84 outputs"
    assert describe({"type": "dropout", "p": 0.25}) == "dropout p=0.25"
    assert describe({"type": "no-such"}) == "no-such"


def test_formula_fills_in_the_numbers():
    text = formula({"type": "conv2d", "kernel_size": 5, "padding": 2}, (1, 28, 28))
    assert text.endswith("floor((28 + 2*2 - 1*(5-1) - 1) / 1) + 1 = 28")
    assert text.startswith("H_out = W_out = ")
    two = formula({"type": "conv2d", "kernel_size": [3, 5]}, (1, 10, 12))
    assert two.splitlines()[0].endswith("= 8") and two.splitlines()[1].endswith("= 8")
    assert formula({"type": "maxpool2d", "ceil_mode": True}, (1, 5, 5)).splitlines()[0].endswith("= 3")
    assert formula({"type": "flatten"}, (16, 5, 5)) == "out = 16 * 5 * 5 = 400"
    assert formula({"type": "linear", "out_features": 84}, (120,)) == "out = 84; weights = 120 * 84 = 10080 + 84 biases"
    # an unusable value or shape gives the generic formula instead of raising
    assert "floor(" in formula({"type": "conv2d", "kernel_size": "big"}, (1, 28, 28))
    assert "floor(" in formula({"type": "conv2d"}, None)
    assert formula({"type": "conv9d"}, (1, 2, 2)) == "unknown layer type 'conv9d'"
    assert formula({"type": "relu"}, (6, 28, 28)) == "out = in = 6x28x28"


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        (ParamSpec("n", "int", 1, 1, 10), [1, 10], [0, 11, 2.5, True, "3", None]),
        (ParamSpec("p", "float", 0.5, 0.0, 1.0), [0, 0.5, 1], [-0.1, 1.5, float("nan"), False, "x"]),
        (ParamSpec("b", "bool", True), [True, False], [0, 1, "true"]),
        (ParamSpec("m", "choice", "a", choices=("a", "b")), ["a", "b"], ["c", None]),
        (ParamSpec("k", "int_or_pair", 3, 1, 9), [1, [1, 9], (2, 3)], [0, [1], [1, 2, 3], [0, 3], "3x3"]),
        (ParamSpec("pad", "padding", 0, 0, 9), [0, [1, 2], "same", "valid"], [-1, "full", [1, "a"]]),
    ],
)
def test_param_spec_check(spec, good, bad):
    for value in good:
        assert spec.check(value) is None, value
    for value in bad:
        message = spec.check(value)
        assert message and message.startswith(spec.name), value


def test_check_message_names_the_range():
    assert ParamSpec("out_features", "int", 10, 1, 1_000_000).check(0) == (
        "out_features must be a whole number from 1 to 1,000,000 (found 0)"
    )


def test_format_shape():
    assert format_shape((6, 28, 28)) == "6x28x28"
    assert format_shape((120,)) == "120"
    assert format_shape(None) == "?"
