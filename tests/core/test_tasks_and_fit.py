"""The task registry (core side) and the network-vs-data fit rules (core.data_fit), without torch."""

from __future__ import annotations

import copy

import pytest

from cnnstudio.core.data_fit import check_fit, classes_for_data, classes_message, fit_to_classes, task_problem
from cnnstudio.core.errors import UserError
from cnnstudio.core.spec_edit import set_task
from cnnstudio.core.tasks import get_task, head_keys, task_names, task_of, task_problems
from cnnstudio.core.templates import load_template

LENET_CLASSES = [str(i) for i in range(10)]


def lenet() -> dict:
    return copy.deepcopy(load_template("lenet5"))


def test_the_built_in_tasks_and_their_outputs():
    assert {"classification", "localization"} <= set(task_names())
    assert get_task("classification").outputs == ("logits",)
    assert get_task("localization").outputs == ("logits", "bbox")
    assert get_task("localization").head_key == "box_head" and "box_head" in head_keys()
    assert task_of({}).name == "classification"
    with pytest.raises(KeyError, match="The task must be 'classification'.* or '"):
        get_task("no-such-task")


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"task": "localization"}, 'needs a "box_head"'),
        ({"task": "localization", "layers": [{"id": "a"}], "box_head": {"from": "b", "layers": []}}, "not a layer"),
        ({"task": "classification", "box_head": {"from": "a", "layers": []}}, 'Only a localization network'),
        ({"task": "regression"}, "The task must be 'classification'"),
    ],
)
def test_head_rules_come_from_the_task(spec, words):
    assert any(words in p for p in task_problems(spec))


def test_set_task_adds_and_removes_the_default_head():
    spec = set_task(lenet(), "localization")
    assert spec["box_head"]["from"] == spec["layers"][-2]["id"]
    assert "box_head" not in set_task(spec, "classification")
    with pytest.raises(ValueError, match="unknown task"):
        set_task(spec, "no-such-task")


def test_task_fit_between_network_and_data():
    loc = set_task(lenet(), "localization")
    assert task_problem(lenet(), "localization") is None  # a classifier learns a localization set's labels
    assert "no boxes" in task_problem(loc, "classification")
    fit = check_fit(lenet(), "localization", LENET_CLASSES)
    assert fit.ok and any("boxes are not used" in n for n in fit.notes)


def test_classes_and_image_fit():
    fit = check_fit(lenet(), "classification", ["a", "b", "c"], (3, 32, 32))
    assert fit.classes is False and fit.outputs == 10 and fit.n_classes == 3 and not fit.ok
    assert any("converted to gray 28×28" in n for n in fit.notes)
    assert classes_message(10, 3) == ("The network ends in 10 outputs but the data has 3 classes; make the last "
                                      "layer output 3 values (e.g. linear with out_features 3).")
    assert check_fit(lenet(), "classification", LENET_CLASSES, (1, 28, 28)).notes == ()
    fitted = fit_to_classes(lenet(), ["a", "b", "c"])
    assert check_fit(fitted, "classification", ["a", "b", "c"]).ok and fitted["classes"] == ["a", "b", "c"]
    with pytest.raises(UserError, match="cannot be fitted"):
        fit_to_classes({**lenet(), "layers": [{"id": "f", "type": "flatten"}]}, ["a"])


def test_the_trained_network_names_the_data_classes_unless_it_names_another_count():
    assert classes_for_data({"classes": []}, ["a", "b"]) == ["a", "b"]
    assert classes_for_data({"classes": ["x", "y"]}, ["a", "b"]) == ["a", "b"]
    assert classes_for_data({"classes": ["x", "y", "z"]}, ["a", "b"]) == ["x", "y", "z"]
