"""The "data" settings schema (cnnstudio.core.data_config): defaults, validation, descriptions."""

from __future__ import annotations

import pytest

from cnnstudio.core.data_config import (
    SOURCES,
    augment_active,
    describe_data_config,
    normalize_augment,
    normalize_data_config,
    source_defaults,
)
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import default_data


def test_project_default_is_valid_digits():
    cfg = normalize_data_config(default_data())
    assert cfg["source"] == "digits" and cfg["val_fraction"] == 0.2 and cfg["seed"] == 0
    assert not augment_active(cfg["augment"])


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_has_complete_defaults(source):
    defaults = source_defaults(source)
    if source in ("folder", "yolo", "coco"):
        defaults["path"] = "/somewhere"
    assert normalize_data_config(defaults)["source"] == source


def test_defaults_filled_and_types_coerced():
    cfg = normalize_data_config({"source": "shapes", "num_samples": 500.0})
    assert cfg["num_samples"] == 500 and isinstance(cfg["num_samples"], int) and cfg["image_size"] == 64
    assert normalize_data_config("digits")["source"] == "digits"
    # settings of another source are kept (switching back and forth keeps them) but not checked
    assert normalize_data_config({"source": "digits", "num_samples": 7})["num_samples"] == 7


@pytest.mark.parametrize("config, message", [
    (["digits"], "dictionary"),
    ({"source": 3}, "Unknown data source"),
    ({"source": "shapes", "num_samples": 10}, "between 50 and"),
    ({"source": "shapes", "num_samples": 100.5}, "whole number"),
    ({"source": "shapes", "seed": True}, "must be a number"),
    ({"source": "yolo", "path": "  "}, "Choose a folder for the 'yolo'"),
    ({"source": "folder", "path": "/x", "channels": "cmyk"}, "channels"),
    ({"source": "digits", "path": 5}, "must be text"),
    ({"source": "digits", "augment": [1]}, "dictionary"),
])
def test_invalid_settings(config, message):
    with pytest.raises(UserError, match=message):
        normalize_data_config(config)


def test_augment_normalisation():
    full = normalize_augment({"rotation": 10})
    assert full["rotation"] == 10.0 and full["flip"] == 0.0 and len(full) == 10
    assert augment_active({"noise": 0.1}) and not augment_active({})
    with pytest.raises(UserError, match="between 0 and 1"):
        normalize_augment({"flip": 2})


def test_descriptions():
    assert describe_data_config({"source": "shapes"}) == "shapes, 2000 images 64×64, seed 0"
    assert describe_data_config({"source": "folder", "path": "/d", "image_size": 32}) == "folder /d at 32×32"
    assert describe_data_config("digits").startswith("digits, validation 20%")
    assert describe_data_config({"source": "mnist", "max_samples": 500}) == (
        "mnist, 500 images, official test split for validation"
    )


def test_data_argument_of_the_command_line(tmp_path):
    from cnnstudio.core.data_config import data_config_from_argument

    assert data_config_from_argument("digits")["source"] == "digits"
    shapes = data_config_from_argument("shapes", base={"source": "digits", "seed": 4, "augment": {"flip": 0.5}})
    assert shapes["seed"] == 4 and shapes["augment"]["flip"] == 0.5 and shapes["num_samples"] == 2000
    same = data_config_from_argument("shapes", base={"source": "shapes", "num_samples": 300})
    assert same["num_samples"] == 300
    (tmp_path / "cats").mkdir()
    assert data_config_from_argument(str(tmp_path))["source"] == "folder"
    (tmp_path / "train" / "images").mkdir(parents=True)
    (tmp_path / "train" / "labels").mkdir()
    yolo = data_config_from_argument(str(tmp_path))
    assert yolo["source"] == "yolo" and yolo["path"] == str(tmp_path)
    with pytest.raises(UserError, match="data folder .* does not exist"):
        data_config_from_argument(str(tmp_path / "missing"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        data_config_from_argument(str(tmp_path / "notes.txt"))
    with pytest.raises(UserError, match="Unknown data 'nonsense': use digits, shapes.* or a dataset folder"):
        data_config_from_argument("nonsense")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_in_the_data_settings_is_a_sentence(value):
    """A project file may hold NaN or Infinity (Python's json reads them); int fields used to crash."""
    for key in ("seed", "val_fraction"):
        with pytest.raises(UserError, match=f"'{key}' must be a number"):
            normalize_data_config({"source": "digits", key: value})
    with pytest.raises(UserError, match="'shift' must be a number"):
        normalize_data_config({"source": "digits", "augment": {"shift": value}})
