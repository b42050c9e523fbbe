"""Pure spec edits: each returns a new spec, leaves the input alone and keeps layer ids unique."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnstudio.core import spec_edit as se
from cnnstudio.core.registry import LAYER_TYPES


def small_spec() -> dict:
    return {
        "format": "cnnstudio-network",
        "version": 1,
        "name": "t",
        "input": {"channels": 1, "height": 28, "width": 28},
        "task": "classification",
        "classes": ["a", "b"],
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
            {"id": "a1", "type": "relu"},
            {"id": "s2", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
            {"id": "flat", "type": "flatten"},
            {"id": "out", "type": "linear", "out_features": 2},
        ],
    }


def ids(spec: dict) -> list[str]:
    return [layer["id"] for layer in spec["layers"]]


def test_make_layer_uses_registry_defaults_and_keeps_size():
    conv = se.make_layer("conv2d")
    assert conv["type"] == "conv2d"
    assert conv["out_channels"] == LAYER_TYPES["conv2d"].param("out_channels").default
    assert conv["kernel_size"] == 3 and conv["padding"] == 1
    assert conv["trainable"] is True and "id" not in conv
    pool = se.make_layer("maxpool2d")
    assert pool["kernel_size"] == 2 and pool["stride"] == 2 and pool["padding"] == 0
    with pytest.raises(KeyError, match="Unknown layer type"):
        se.make_layer("conv9d")


def test_insert_layer_at_gap_gives_unique_id_and_leaves_input_alone():
    spec = small_spec()
    before = copy.deepcopy(spec)
    new = se.insert_layer(spec, 1, "conv2d")
    assert spec == before
    assert ids(new) == ["c1", "conv2d_2", "a1", "s2", "flat", "out"]
    again = se.insert_layer(new, 0, "conv2d")
    assert ids(again)[0] == "conv2d_3"
    appended = se.insert_layer(spec, -1, {"type": "relu", "id": "c1"})
    assert ids(appended)[-1] == "relu_2"
    assert len(set(ids(appended))) == len(ids(appended))


def test_insert_clamps_out_of_range_gap():
    spec = small_spec()
    assert ids(se.insert_layer(spec, 99, "relu"))[-1].startswith("relu")
    assert ids(se.insert_layer(spec, -99, "relu"))[0].startswith("relu")


def test_insert_rejects_a_layer_without_type():
    with pytest.raises(ValueError, match="type"):
        se.insert_layers(small_spec(), 0, [{"id": "x"}])


@pytest.mark.parametrize(
    ("from_index", "to_gap", "expected"),
    [
        (0, 2, ["a1", "c1", "s2", "flat", "out"]),
        (0, 0, ["c1", "a1", "s2", "flat", "out"]),
        (0, 1, ["c1", "a1", "s2", "flat", "out"]),
        (4, 0, ["out", "c1", "a1", "s2", "flat"]),
        (2, 5, ["c1", "a1", "flat", "out", "s2"]),
        (3, 1, ["c1", "flat", "a1", "s2", "out"]),
    ],
)
def test_move_layer_to_gap(from_index, to_gap, expected):
    assert ids(se.move_layer(small_spec(), from_index, to_gap)) == expected


def test_move_several_keeps_their_order():
    new = se.move_layers(small_spec(), ["out", "a1"], 0)
    assert ids(new) == ["a1", "out", "c1", "s2", "flat"]
    with pytest.raises(KeyError):
        se.move_layers(small_spec(), ["nope"], 0)
    with pytest.raises(IndexError):
        se.move_layer(small_spec(), 9, 0)


def test_remove_and_duplicate():
    spec = small_spec()
    assert ids(se.remove_layers(spec, ["a1", "flat", "unknown"])) == ["c1", "s2", "out"]
    dup = se.duplicate_layers(spec, ["c1", "a1"])
    assert ids(dup) == ["c1", "a1", "conv2d_2", "relu_2", "s2", "flat", "out"]
    assert dup["layers"][2]["out_channels"] == 6
    assert se.duplicate_layers(spec, []) == spec


def test_copy_layers_in_network_order():
    copies = se.copy_layers(small_spec(), ["out", "c1"])
    assert [c["id"] for c in copies] == ["c1", "out"]
    pasted = se.insert_layers(small_spec(), 5, copies)
    assert ids(pasted)[5:] == ["conv2d_2", "linear_2"]


def test_set_param_trainable_rename():
    spec = small_spec()
    new = se.set_param(spec, "c1", "kernel_size", 3)
    assert new["layers"][0]["kernel_size"] == 3 and spec["layers"][0]["kernel_size"] == 5
    with pytest.raises(KeyError, match="no layer"):
        se.set_param(spec, "zz", "kernel_size", 3)
    with pytest.raises(ValueError):
        se.set_param(spec, "c1", "id", "x")
    frozen = se.set_trainable(spec, ["c1", "s2"], False)
    assert [layer.get("trainable", True) for layer in frozen["layers"]] == [False, True, False, True, True]
    renamed = se.rename_layer(spec, "c1", "conv_a")
    assert ids(renamed)[0] == "conv_a"
    with pytest.raises(ValueError, match="already"):
        se.rename_layer(spec, "c1", "a1")


def test_rename_moves_the_box_head_branch():
    spec = small_spec()
    spec["task"] = "localization"
    spec["box_head"] = {"from": "flat", "layers": [{"id": "box", "type": "linear", "out_features": 4}]}
    renamed = se.rename_layer(spec, "flat", "features")
    assert renamed["box_head"]["from"] == "features"
    assert ids(se.insert_layer(spec, 0, {"type": "linear", "id": "box"}))[0] == "linear_3"


def test_network_settings():
    spec = small_spec()
    assert se.set_input(spec, channels=3)["input"] == {"channels": 3, "height": 28, "width": 28}
    spec["preprocess"] = {"mean": [0.5], "std": [0.25]}
    rgb = se.set_input(spec, channels=3)["preprocess"]
    assert rgb == {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    assert se.set_input(se.set_input(spec, channels=3), channels=1)["preprocess"]["mean"] == [0.5]
    assert se.set_task(spec, "localization")["task"] == "localization"
    assert se.set_task(spec, "segmentation")["task"] == "segmentation"
    with pytest.raises(ValueError, match="unknown task"):
        se.set_task(spec, "pose-estimation")
    assert se.set_classes(spec, [" cat ", "", "dog"])["classes"] == ["cat", "dog"]
    assert se.set_field(spec, "name", "x")["name"] == "x"
    assert "name" not in se.set_field(spec, "name", None)
    with pytest.raises(ValueError):
        se.set_field(spec, "layers", [])


def test_set_layer_type_keeps_id_and_place():
    new = se.set_layer_type(small_spec(), "a1", "tanh")
    assert new["layers"][1] == {"id": "a1", "type": "tanh", "trainable": True}


@given(st.lists(st.sampled_from(sorted(LAYER_TYPES)), max_size=12), st.data())
def test_random_inserts_and_moves_keep_ids_unique(types, data):
    spec = small_spec()
    for type_name in types:
        gap = data.draw(st.integers(-3, len(spec["layers"]) + 2))
        spec = se.insert_layer(spec, gap, type_name)
        src = data.draw(st.integers(0, len(spec["layers"]) - 1))
        dst = data.draw(st.integers(0, len(spec["layers"])))
        moved = se.move_layer(spec, src, dst)
        assert sorted(ids(moved)) == sorted(ids(spec))
        spec = moved
    assert len(set(ids(spec))) == len(spec["layers"]) == 5 + len(types)


def test_layers_without_id_are_addressed_by_position():
    spec = small_spec()
    spec["layers"].insert(1, {"type": "relu"})
    assert se.layer_ids(spec)[1] == "#2"
    assert se.set_param(spec, "#2", "inplace", True)["layers"][1]["inplace"] is True
    assert se.rename_layer(spec, "#2", "act")["layers"][1]["id"] == "act"
    assert len(se.remove_layers(spec, ["#2"])["layers"]) == 5
    assert [layer.get("id") for layer in se.move_layers(spec, ["#2"], 0)["layers"]][:2] == [None, "c1"]
    assert se.duplicate_layers(spec, ["#2"])["layers"][2]["id"] == "relu_3"


def test_fit_classes_resizes_the_last_sized_layer_and_names_the_classes():
    spec = {"input": {"channels": 1, "height": 8, "width": 8}, "classes": ["a", "b"], "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
        {"id": "drop", "type": "dropout"},
    ]}
    new = se.fit_classes(spec, ["x", "y", "z"])
    assert new["layers"][2]["out_features"] == 3 and new["classes"] == ["x", "y", "z"]
    assert new["layers"][0]["out_channels"] == 4
    assert spec["layers"][2]["out_features"] == 2 and spec["classes"] == ["a", "b"]  # input untouched
    conv_head = {"layers": [{"id": "c", "type": "conv2d", "out_channels": 4, "kernel_size": 1},
                            {"id": "g", "type": "flatten"}]}
    assert se.fit_classes(conv_head, ["p", "q"])["layers"][0]["out_channels"] == 2
    with pytest.raises(ValueError):
        se.fit_classes({"layers": [{"id": "f", "type": "flatten"}]}, ["a"])
    with pytest.raises(ValueError):
        se.fit_classes(spec, [])
