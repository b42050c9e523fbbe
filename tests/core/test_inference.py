"""Inference without torch: shapes, parameters, totals, every problem at once, weight sharing."""

from __future__ import annotations

import copy
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.core.inference import dense_equivalent_weights, infer, weight_sharing
from cnnstudio.core.spec import load_spec
from cnnstudio.core.templates import load_template

TEMPLATE_PARAMS = {"lenet5": 61_706, "mlp": 235_146, "tinyvgg": 19_920, "vgg-small": 403_626,
                   "shapes-localizer": 113_177}


def _spec(layers, **extra):
    spec = {"input": {"channels": 1, "height": 8, "width": 8}, "classes": ["a", "b"], "layers": layers}
    spec.update(extra)
    return spec


def test_core_inference_does_not_import_torch():
    code = (
        "import sys, cnnstudio.core.inference, cnnstudio.core.templates; "
        "cnnstudio.core.inference.infer(cnnstudio.core.templates.load_template('lenet5')); "
        "print(sorted(m for m in ('torch', 'onnx', 'PySide6', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lenet5_shapes_params_and_mult_adds():
    summary = infer(load_template("lenet5"))
    assert summary.ok and summary.problems == []
    assert summary.total_params == 61_706 == summary.trainable_params
    assert summary.frozen_params == 0
    shapes = {info.id: info.output_shape for info in summary.layers}
    assert shapes["c1"] == (6, 28, 28) and shapes["s2"] == (6, 14, 14)
    assert shapes["c3"] == (16, 10, 10) and shapes["s4"] == (16, 5, 5)
    assert shapes["flat"] == (400,) and shapes["out"] == (10,)
    c3 = summary.layer("c3")
    assert (c3.weights, c3.biases, c3.params, c3.mult_adds) == (2400, 16, 2416, 240_000)
    assert c3.input_shape == (6, 14, 14) and c3.activation_size == 1600
    assert summary.mult_adds == 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert summary.output_shape == (10,) and summary.input_shape == (1, 28, 28)


def test_every_template_is_valid_with_its_parameter_count():
    for name, params in TEMPLATE_PARAMS.items():
        summary = infer(load_template(name))
        assert summary.ok, (name, summary.problems)
        assert summary.total_params == params, name
    tiny = infer(load_template("tinyvgg"))
    convs = [i for i in tiny.layers if i.type == "conv2d"]
    assert len(convs) == 4 and all(i.output_shape[0] == 10 for i in convs)
    assert [i.type for i in tiny.layers].count("maxpool2d") == 2
    assert tiny.input_shape == (3, 64, 64) and tiny.output_shape == (10,)
    assert infer(load_template("vgg-small")).input_shape == (3, 32, 32)


def test_localizer_box_head():
    spec = load_template("shapes-localizer")
    assert spec["classes"] == ["circle", "square", "triangle", "star", "cross"]
    summary = infer(spec)
    assert summary.ok and summary.task == "localization"
    head = summary.box_head
    assert head.source == "pool4" and head.input_shape == (64, 4, 4) and head.output_shape == (4,)
    assert [i.branch for i in head.layers] == ["box_head"] * 4
    assert summary.total_params == sum(i.params for i in summary.all_layers)
    assert summary.layer("box_out").output_shape == (4,)


def test_frozen_layers_count_as_frozen():
    spec = load_template("lenet5")
    for layer in spec["layers"][:4]:
        layer["trainable"] = False
    summary = infer(spec)
    assert summary.frozen_params == 156 + 2416
    assert summary.trainable_params == 61_706 - 2572
    assert summary.layer("c1").trainable is False


def test_the_lecture_message_for_a_too_small_input():
    spec = _spec([
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 5},
        {"id": "c3", "type": "conv2d", "out_channels": 4, "kernel_size": 5},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ])
    summary = infer(spec)
    assert not summary.ok
    assert summary.problems == ["conv2d 'c3': 5x5 kernel is larger than its 4x4 padded input."]
    c3 = summary.layer("c3")
    assert c3.error == summary.problems[0] and c3.output_shape is None and c3.input_shape == (4, 4, 4)
    assert summary.layer("flat").output_shape is None and summary.layer("flat").error is None


def test_every_problem_is_reported_at_once_each_with_its_layer():
    spec = _spec(
        [
            {"id": "c1", "type": "conv2d", "out_channels": 0, "kernel_size": 3},
            {"id": "p1", "type": "maxpool2d", "kernel_size": "two"},
            {"id": "x", "type": "conv3d"},
            {"id": "d", "type": "dropout", "p": 2},
            {"id": "d", "type": "relu", "bogus": 1},
            {"id": "out", "type": "linear", "out_features": 2, "bias": "yes"},
        ],
        task="classification",
        input={"channels": 1, "height": 0, "width": 8},
    )
    summary = infer(spec)
    text = "\n".join(summary.problems)
    assert "input height must be a whole number" in text
    assert "conv2d 'c1': out_channels must be a whole number from 1 to 8,192 (found 0)." in text
    assert "maxpool2d 'p1': kernel_size must be" in text
    assert "conv3d 'x': unknown layer type 'conv3d'." in text
    assert "dropout 'd': p must be a number from 0 to 1 (found 2)." in text
    assert "relu 'd': the id 'd' is used by more than one layer." in text
    assert "relu 'd': unknown parameter 'bogus'." in text
    assert "linear 'out': bias must be true or false (found 'yes')." in text
    assert len(summary.problems) == 8
    assert summary.layer("x").error and summary.layer("c1").error


def test_classifier_must_end_with_one_score_per_class():
    wrong = infer(_spec([{"id": "flat", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 3}]))
    assert wrong.problems == [
        "linear 'out': the network ends with 3 values, but there are 2 classes; the last layer must output 2."
    ]
    assert wrong.layer("out").error == wrong.problems[0]
    unflat = infer(_spec([{"id": "c", "type": "conv2d", "out_channels": 2, "kernel_size": 8}]))
    assert "conv2d 'c': the network ends with a 2x1x1 feature map" in unflat.problems[0]
    assert "add flatten and linear layers" in unflat.problems[0]
    nameless = infer(_spec([{"id": "flat", "type": "flatten"}], classes=[]))
    assert "lists no classes" in nameless.problems[0]


def test_linear_on_a_feature_map_asks_for_flatten():
    summary = infer(_spec([{"id": "fc", "type": "linear", "out_features": 2}]))
    assert summary.problems[0] == (
        "linear 'fc': needs a flat input, but its input is a 1x8x8 feature map; add a flatten layer before it."
    )


def test_box_head_problems():
    base = load_template("shapes-localizer")
    wrong = copy.deepcopy(base)
    wrong["box_head"]["layers"][-1]["out_features"] = 5
    summary = infer(wrong)
    assert summary.problems == [
        "linear 'box_out': the box head must end with 4 values (x, y, w, h), but it ends with 5 values."
    ]
    missing = copy.deepcopy(base)
    missing["box_head"]["from"] = "nowhere"
    assert "branches from 'nowhere'" in infer(missing).problems[0]
    clash = copy.deepcopy(base)
    clash["box_head"]["layers"][0]["id"] = "conv1"
    assert any("'conv1' is used by more than one layer" in p for p in infer(clash).problems)


def test_garbage_never_raises():
    for junk in (None, 3, "lenet5", [], {}, {"layers": None}, {"input": [1, 2]}, {"layers": [None, 5, "x"]},
                 {"input": {"channels": True, "height": 2.5, "width": "w"}, "layers": [{"type": "relu"}]},
                 {"task": "localization", "box_head": "x", "layers": []}):
        summary = infer(junk)
        assert not summary.ok and summary.problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70) | st.floats(allow_nan=True) | st.sampled_from(
        ["same", "valid", "relu", "conv2d", "linear", "flatten", "maxpool2d", "c1", "zeros"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "type", "kernel_size", "out_channels", "stride", "padding", "out_features",
                         "layers", "input", "channels", "height", "width", "task", "from", "classes", "p"]),
        inner, max_size=6,
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=json_values)
def test_random_json_never_raises(junk):
    summary = infer(junk)
    assert isinstance(summary.problems, list)
    assert summary.ok == (not summary.problems)


def test_weight_sharing_against_dense_layers():
    assert dense_equivalent_weights((1, 28, 28), (84,)) == 65_856  # the lecture's example
    sharing = weight_sharing(load_spec("lenet5"))
    assert [row.id for row in sharing.rows] == ["c1", "c3"]
    c1 = sharing.rows[0]
    assert (c1.conv_weights, c1.conv_params) == (150, 156)
    assert c1.dense_weights == 784 * 6 * 28 * 28 and c1.dense_params == c1.dense_weights + 6 * 28 * 28
    assert c1.ratio == c1.dense_weights / 150
    assert sharing.total_params == 61_706
    conv_params = 156 + 2416
    dense_params = sum(r.dense_params for r in sharing.rows)
    assert sharing.all_dense_params == 61_706 - conv_params + dense_params
    assert sharing.ratio > 90
    assert weight_sharing(load_spec("mlp")).rows == []
