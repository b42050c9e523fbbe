"""The detection task in core: the detect_head layer's shape maths, the head rules, the task switch."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.data_fit import check_fit
from cnnstudio.core.inference import infer
from cnnstudio.core.registry import ShapeError, get_layer_type
from cnnstudio.core.spec import load_spec
from cnnstudio.core.spec_edit import fit_classes, set_task
from cnnstudio.core.tasks import get_task


@pytest.mark.parametrize(
    ("params", "shape", "out", "weights", "biases"),
    [
        ({"num_classes": 5, "hidden": 0}, (64, 12, 12), (9, 12, 12), 9 * 64, 9),
        ({"num_classes": 5, "hidden": 32}, (48, 12, 12), (9, 12, 12), 32 * 48 * 9 + 9 * 32, 32 + 9),
        ({"num_classes": 1, "hidden": 8}, (3, 5, 7), (5, 5, 7), 8 * 3 * 9 + 5 * 8, 8 + 5),
    ],
)
def test_detect_head_shape_and_parameters(params, shape, out, weights, biases):
    kind = get_layer_type("detect_head")
    layer = {**kind.defaults(), **params}
    assert kind.infer_shape(layer, shape) == out
    assert kind.param_count(layer, shape, out) == (weights, biases)
    assert kind.mult_adds(layer, shape, out) == weights * out[1] * out[2]
    assert "classes" in kind.formula(layer, shape)


def test_detect_head_needs_a_feature_map():
    kind = get_layer_type("detect_head")
    with pytest.raises(ShapeError, match="feature map"):
        kind.infer_shape(kind.defaults(), (120,))


def test_detector_template_infers_and_fits_the_data_classes():
    spec = load_spec("detector")
    summary = infer(spec)
    assert summary.ok and summary.output_shape == (9, 12, 12) and summary.task == "detection"
    fit = check_fit(spec, "detection", ["circle", "square", "triangle", "star", "cross"])
    assert fit.ok and fit.classes is True and fit.outputs == 5
    assert check_fit(spec, "localization", ["a"] * 5).task_problem is None  # one box per image is one object
    assert "no boxes" in check_fit(spec, "classification", ["a"]).task_problem
    refit = fit_classes(spec, ["a", "b"])
    assert refit["layers"][-1]["num_classes"] == 2 and infer(refit).ok
    assert refit["layers"][-2] == spec["layers"][-2]  # the body is untouched


def test_head_rules_say_what_to_change():
    spec = load_spec("detector")
    wrong = json.loads(json.dumps(spec))
    wrong["layers"][-1]["num_classes"] = 3
    assert any("set its num_classes to 5" in p for p in infer(wrong).problems)
    no_head = json.loads(json.dumps(spec))
    no_head["layers"] = no_head["layers"][:-1]
    assert any("must end with a detection head" in p for p in infer(no_head).problems)


def test_switching_a_classifier_to_detection_puts_a_head_on_its_last_feature_map():
    spec = set_task(load_spec("lenet5"), "detection")
    assert spec["layers"][-1]["type"] == "detect_head" and spec["layers"][-1]["num_classes"] == 10
    assert all(layer["type"] not in ("flatten", "linear") for layer in spec["layers"])
    summary = infer(spec)
    assert summary.ok and len(summary.output_shape) == 3
    assert set_task(spec, "detection") == spec
    task = get_task("detection")
    assert task.outputs == ("detections",) and "detection_decoding" in task.model_props(spec)
