"""Spec files: templates by name, format and version, structure checks, defaults, ids, saving."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.spec import (
    LAYER_ID_PATTERN,
    SPEC_FORMAT,
    SPEC_VERSION,
    load_spec,
    new_layer_id,
    save_spec,
)
from cnnstudio.core.templates import load_template, template_names, template_path, template_title


def _minimal(**extra):
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "input": {"channels": 1, "height": 8, "width": 8},
        "classes": ["a", "b"],
        "layers": [{"id": "flat", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 2}],
    }
    spec.update(extra)
    return spec


def test_templates_are_addressable_by_name():
    assert template_names()[:5] == ["lenet5", "mlp", "tinyvgg", "vgg-small", "shapes-localizer"]
    assert template_path("lenet5").name == "lenet5.json"
    assert template_title("lenet5") == "LeNet-5"
    assert load_template("mlp")["input"] == {"channels": 1, "height": 28, "width": 28}
    with pytest.raises(UserError, match="no network template 'nope'"):
        template_path("nope")


def test_lenet5_keeps_its_layer_ids_and_gets_every_default():
    spec = load_spec("lenet5")
    assert [layer["id"] for layer in spec["layers"]] == [
        "c1", "a1", "s2", "c3", "a3", "s4", "flat", "f5", "a5", "f6", "a6", "out"
    ]
    c1 = spec["layers"][0]
    assert c1 == {
        "id": "c1", "type": "conv2d", "out_channels": 6, "kernel_size": 5, "stride": 1, "padding": 2,
        "padding_mode": "zeros", "dilation": 1, "groups": 1, "bias": True, "trainable": True,
    }
    s2 = spec["layers"][2]
    assert (s2["stride"], s2["padding"], s2["dilation"], s2["ceil_mode"]) == (2, 0, 1, False)
    assert all(layer["trainable"] is True for layer in spec["layers"])
    assert spec["task"] == "classification" and len(spec["classes"]) == 10


def test_pooling_stride_defaults_to_the_kernel_size_like_pytorch():
    spec = load_spec(_minimal(layers=[
        {"id": "p", "type": "maxpool2d", "kernel_size": 3},
        {"id": "q", "type": "avgpool2d", "kernel_size": [2, 4], "stride": None},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ]))
    assert spec["layers"][0]["stride"] == 3
    assert spec["layers"][1]["stride"] == [2, 4]


def test_load_from_path_dict_and_run_folder(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(_minimal(name="tiny")), encoding="utf-8")
    assert load_spec(path)["name"] == "tiny"
    assert load_spec(str(path))["layers"][1]["bias"] is True
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.json").write_text(json.dumps(_minimal(name="from run")), encoding="utf-8")
    assert load_spec(run)["name"] == "from run"
    # a dict built in code may leave out format and version
    loose = {k: v for k, v in _minimal().items() if k not in ("format", "version")}
    assert load_spec(loose)["version"] == SPEC_VERSION
    assert load_spec(load_spec("lenet5")) == load_spec("lenet5")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": "something-else", "version": 1}, "its format is 'something-else'"),
        (_minimal(version=99), "written by a newer CNN Studio"),
        (_minimal(version=0), "no valid format version"),
        (_minimal(layers="conv"), "layers must be a list"),
        (_minimal(layers=[]), "The network has no layers"),
        (_minimal(input={"channels": 0, "height": 8, "width": 8}), "input channels must be a whole number"),
        (_minimal(task="pose"), "task must be 'classification', .* or 'segmentation' .found 'pose'."),
        (_minimal(classes=["a", "a"]), "class names must be different"),
        (_minimal(preprocess={"mean": [0.5], "std": [0]}), "std must not contain 0"),
        (_minimal(extra=1), "unknown entry 'extra'"),
        (_minimal(layers=[{"id": "x", "type": "conv3d"}]), "conv3d 'x': unknown layer type 'conv3d'"),
        (_minimal(layers=[{"type": "relu"}]), "has no id"),
        (_minimal(layers=[{"id": "a", "type": "relu"}, {"id": "a", "type": "relu"}]), "used by more than one layer"),
        (_minimal(layers=[{"id": "a.b", "type": "relu"}]), "id 'a.b' is not allowed"),
        (_minimal(layers=[{"id": "forward", "type": "relu"}]), "id 'forward' is not allowed"),
        (_minimal(layers=[{"id": "c", "type": "conv2d", "kernal_size": 3}]), "unknown parameter 'kernal_size'"),
        (_minimal(layers=[{"id": "c", "type": "relu", "trainable": "no"}]), "trainable must be true or false"),
        (_minimal(task="localization"), 'needs a "box_head"'),
        (_minimal(task="localization", box_head={"from": "nope", "layers": []}), "branches from 'nope'"),
        (_minimal(box_head={"from": "flat", "layers": []}), "Only a localization network"),
    ],
)
def test_unusable_specs_raise_one_clear_user_error(data, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        load_spec(data)


def test_all_structure_problems_are_reported_together():
    data = _minimal(task="x", layers=[{"id": "a", "type": "nope"}, {"type": "relu"}])
    with pytest.raises(FormatError) as info:
        load_spec(data)
    text = str(info.value)
    assert "3 problems" in text and "task" in text and "nope" in text and "no id" in text


def test_file_problems_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_spec(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="corrupt"):
        load_spec(bad)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(UserError, match="is not a cnnstudio-network file"):
        load_spec(listed)
    with pytest.raises(UserError, match="no network template 'lenet6'"):
        load_spec("lenet6")
    with pytest.raises(UserError, match="template name, a file or a dict"):
        load_spec(42)  # type: ignore[arg-type]


def test_value_problems_are_left_to_inference():
    spec = load_spec(_minimal(layers=[{"id": "c", "type": "conv2d", "kernel_size": -1}]))
    assert spec["layers"][0]["kernel_size"] == -1


def test_save_is_atomic_and_round_trips(tmp_path):
    spec = load_spec("shapes-localizer")
    path = tmp_path / "sub" / "net.json"
    save_spec(spec, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[:2] == ["format", "version"]
    assert load_spec(path) == spec
    assert not [p for p in path.parent.iterdir() if p.name != "net.json"]


def test_new_layer_id_is_unique():
    spec = load_spec("lenet5")
    assert new_layer_id(spec, "conv2d") == "conv2d_3"
    spec["layers"].append({"id": "conv2d_3", "type": "conv2d"})
    assert new_layer_id(spec, "conv2d") == "conv2d_4"
    assert new_layer_id(spec, "dropout") == "dropout_1"
    head = load_spec("shapes-localizer")
    assert new_layer_id(head, "linear") == "linear_4"
    assert LAYER_ID_PATTERN.match(new_layer_id(spec, "leaky_relu"))


def test_every_template_file_is_a_current_version_spec():
    for name in template_names():
        data = json.loads(template_path(name).read_text(encoding="utf-8"))
        assert data["format"] == SPEC_FORMAT and data["version"] == SPEC_VERSION
        assert data.get("name") and data.get("description")
