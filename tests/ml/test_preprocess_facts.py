"""A model's preprocessing comes from the data that trained it; the automatic polarity step; the
preprocessing metadata's version 2 (polarity and ink) and its migration from version 1 (invert)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnstudio.core.errors import FormatError
from cnnstudio.core.model_meta import META_VERSION, ModelMeta, Preprocess
from cnnstudio.core.spec import load_spec
from cnnstudio.ml.datasets import DatasetBundle, load_dataset
from cnnstudio.ml.datasets.bundle import ImageFacts
from cnnstudio.ml.preprocess import dataset_ink, paper_is_light, to_model_input, training_preprocess


def _bundle(x: torch.Tensor, facts: ImageFacts | None = None) -> DatasetBundle:
    y = torch.arange(len(x)) % 2
    kw = {"facts": facts} if facts is not None else {}
    return DatasetBundle(x[:-4], y[:-4], x[-4:], y[-4:], ["a", "b"], **kw)


def _pages(n: int, dark_ink: bool, size: int = 28) -> torch.Tensor:
    """Gray pages with a bar of ink, dark on light (``dark_ink``) or light on dark, in [0, 1]."""
    x = torch.full((n, 1, size, size), 0.9 if dark_ink else 0.05)
    for i in range(n):
        x[i, 0, 6:22, 8 + i % 8: 12 + i % 8] = 0.1 if dark_ink else 0.95
    return x


def test_lenet5_on_the_digits_gets_the_digits_preprocessing_not_the_templates():
    spec = load_spec("lenet5")  # the template says invert and crop (version 1 keys)
    digits = load_dataset({"source": "digits"})
    pre = training_preprocess(spec, digits)
    assert pre["mean"] == [0.5] and pre["std"] == [0.5]  # the trainer normalises with the spec's
    assert pre["polarity"] == "auto" and pre["ink"] == "light"  # light ink on dark, like MNIST
    assert pre["crop_to_content"] is True and pre["crop_margin"] == 0.0  # digits fill their 8x8 box
    assert "invert" not in pre and Preprocess.from_dict(pre).invert is False


def test_a_folder_is_used_as_its_files_are():
    spec = load_spec("lenet5")
    paper = _bundle(_pages(20, dark_ink=True), ImageFacts.measured(_pages(20, dark_ink=True)))
    assert paper.facts.ink == "dark"
    pre = training_preprocess(spec, paper)
    assert pre["polarity"] == "auto" and pre["ink"] == "dark" and pre["crop_to_content"] is False
    photos = torch.rand(20, 3, 28, 28, generator=torch.Generator().manual_seed(0))
    assert dataset_ink(photos) == ""  # no single polarity: photos are kept as they are
    unknown = training_preprocess(spec, _bundle(photos))  # and a bundle without facts: nothing assumed
    assert unknown["polarity"] == "keep" and unknown["ink"] == "" and unknown["crop_to_content"] is False


def test_the_digits_facts_agree_with_the_border_rule():
    digits = load_dataset({"source": "digits"})
    assert digits.facts.ink == "light" == dataset_ink(digits.train_x)
    assert digits.fit_to(1, 20, 20).facts == digits.facts  # converting the images keeps their facts


def test_paper_is_read_from_the_border_as_a_scanner_does():
    page = np.full((120, 90), 235, np.uint8)
    page[30:90, 40:52] = 25
    assert paper_is_light(page) is True
    assert paper_is_light(255 - page) is False
    assert paper_is_light(np.full((40, 40), 128, np.uint8)) is None  # a blank page: no contrast
    ys, xs = np.mgrid[:120, :90]
    shade = 1.0 - 0.25 * np.hypot((ys - 60) / 60, (xs - 45) / 45) / np.sqrt(2)
    vignetted = (page * shade).astype(np.uint8)  # a camera frame: darker corners, still light paper
    assert paper_is_light(vignetted) is True


def test_light_on_dark_digits_are_no_longer_read_inverted():
    """The bundled model reads both polarities the same way: the automatic step gives the network the
    same input for a digit and its negative (it read MNIST-style digits at about 11 % before)."""
    from cnnstudio.core.paths import models_dir
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.rendered_digits import render_digits

    model = OnnxModel(models_dir() / "lenet5-digits.onnx")
    assert model.meta.preprocess.polarity == "auto" and model.meta.preprocess.ink == "light"
    dark, labels = render_digits(5, "dark", seed=3)
    light, _ = render_digits(5, "light", seed=3)
    a = np.concatenate([model.prepare(img) for img in dark])
    b = np.concatenate([model.prepare(img) for img in light])
    np.testing.assert_allclose(a, b, atol=0.02)
    guesses = np.array([p.top[0][0] for p in model.predict_batch(b, k=1)])
    assert np.mean(guesses == labels) > 0.6


def test_keep_and_invert_follow_the_networks_ink():
    meta = ModelMeta(input_shape=(1, 8, 8), preprocess=Preprocess(polarity="keep", ink="light"))
    light_page = np.zeros((8, 8), np.uint8)
    assert float(to_model_input(light_page, meta).max()) == 0.0
    inverted = ModelMeta(input_shape=(1, 8, 8), preprocess=Preprocess(polarity="invert", ink="light"))
    assert float(to_model_input(light_page, inverted).min()) == 1.0
    with pytest.raises(ValueError):
        Preprocess(polarity="sometimes")


def _v1_props(invert: bool) -> dict[str, str]:
    return {"cnnstudio.format": "cnnstudio-onnx", "cnnstudio.version": "1", "input_shape": "[1, 28, 28]",
            "class_names": "[]", "preprocess": json.dumps({"mean": [0.5], "std": [0.5], "invert": invert,
                                                            "crop_to_content": True})}


def test_version_1_metadata_is_migrated_and_newer_versions_refused():
    inverted = ModelMeta.from_props(_v1_props(True)).preprocess
    assert (inverted.polarity, inverted.ink, inverted.invert, inverted.crop_margin) == ("invert", "light", True, 0.06)
    kept = ModelMeta.from_props(_v1_props(False)).preprocess
    assert (kept.polarity, kept.ink) == ("keep", "")
    props = ModelMeta(input_shape=(1, 28, 28), preprocess=inverted).to_props()
    assert props["cnnstudio.version"] == str(META_VERSION) == "2"
    assert "invert" not in json.loads(props["preprocess"])
    assert ModelMeta.from_props(props).preprocess == inverted
    newer = {**props, "cnnstudio.version": "3"}
    with pytest.raises(FormatError, match="newer CNN Studio"):
        ModelMeta.from_props(newer)


def test_a_spec_with_an_unknown_polarity_is_invalid():
    from cnnstudio.core.spec import top_level_problems

    spec = load_spec("lenet5")
    spec["preprocess"] = {"mean": [0.5], "std": [0.5], "polarity": "upside-down"}
    assert any("polarity" in p for p in top_level_problems(spec))
