"""Extending CNN Studio for real, as docs/dev/extending.md says: a new layer type, a new task and a new
training option are each registered here, used to train or infer, and removed again."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnstudio.core import train_settings
from cnnstudio.core.errors import UserError
from cnnstudio.core.inference import infer
from cnnstudio.core.registry import (
    LayerType,
    ParamSpec,
    categories,
    register_layer_type,
    unregister_layer_type,
)
from cnnstudio.core.tasks import TaskType, register_task, task_names, unregister_task
from cnnstudio.ml import trainer
from cnnstudio.ml.datasets.bundle import DatasetBundle
from cnnstudio.ml.tasks import Decoded, probabilities, register_runtime, runtime, unregister_runtime
from cnnstudio.ml.tasks.classification import Classification
from cnnstudio.ml.trainer import EpochEnd, Failed, Finished, TrainConfig, train

TINY = {
    "name": "tiny",
    "input": {"channels": 1, "height": 8, "width": 8},
    "classes": ["left", "right"],
    "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"id": "a1", "type": "relu"},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ],
}


def halves(n: int = 160, with_boxes: bool = False) -> DatasetBundle:
    """Class 0: a bright block on the left; class 1: on the right (the block's box is the target)."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.2
    y = torch.randint(0, 2, (n,), generator=g)
    boxes = torch.zeros(n, 4)
    for i in range(n):
        top = int(torch.randint(0, 5, (1,), generator=g))
        left = 0 if y[i] == 0 else 4
        x[i, 0, top:top + 4, left:left + 4] = 1.0
        boxes[i] = torch.tensor([left / 8, top / 8, 0.5, 0.5])
    cut = n * 3 // 4
    extra = {"task": "localization", "train_boxes": boxes[:cut], "val_boxes": boxes[cut:]} if with_boxes else {}
    return DatasetBundle(x[:cut], y[:cut], x[cut:], y[cut:], ["left", "right"], **extra)


def config(**kw):
    return TrainConfig.from_dict({"epochs": 2, "batch_size": 16, "lr": 0.01, "device": "cpu", "threads": 1,
                                  "schedule": "none", **kw})


def finish(events) -> Finished:
    final = list(events)[-1]
    assert isinstance(final, Finished), getattr(final, "message", final)
    return final


# --- a layer type ------------------------------------------------------------------------------------
HARDSWISH = LayerType(
    name="hardswish",
    title="Hard swish",
    category="Activation",
    help="x * relu6(x + 3) / 6: a cheap smooth ReLU (MobileNetV3).",
    params=[ParamSpec("inplace", "bool", False, help="Overwrite the input (saves memory).")],
    torch_rule=lambda layer, shape: ("nn.Hardswish", {"inplace": layer["inplace"]}),
)


def test_a_new_layer_type_shows_in_the_palette_infers_builds_and_trains():
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.codegen import torch_source

    spec = json.loads(json.dumps(TINY))
    spec["layers"][1] = {"id": "a1", "type": "hardswish"}
    assert not infer(spec).ok  # unknown before it is registered
    register_layer_type(HARDSWISH)
    try:
        assert HARDSWISH in categories()["Activation"]
        summary = infer(spec)
        assert summary.ok and summary.layers[1].output_shape == (4, 8, 8)
        model = build_model(spec)
        assert isinstance(model.layers["a1"], torch.nn.Hardswish)
        assert "nn.Hardswish" in torch_source(spec)
        final = finish(train(spec, halves(), config(), None, export=False))
        assert final.metrics["val_accuracy"] >= 0.6
    finally:
        unregister_layer_type("hardswish")
    assert not infer(spec).ok


# --- a task ------------------------------------------------------------------------------------------
def point_head_problems(spec: dict) -> list[str]:
    head = spec.get("point_head")
    if not isinstance(head, dict) or "from" not in head:
        return ['A point network needs a "point_head" with "from" (a layer id) and "layers".']
    return []


POINT = TaskType(
    name="point", label="Point (class + centre)", help="Predicts the class and the object's centre point.",
    outputs=("logits", "point"), data_targets=("labels", "boxes"), trains_on=("localization",),
    data_label="point", no_data_message="A point network needs data with boxes (their centres are the targets).",
    head_key="point_head", head_size=2, head_values="(x, y)", head_problems=point_head_problems,
)


class PointRuntime(Classification):
    """Cross-entropy plus the squared distance to the box centre; the mean distance as a metric."""

    name = "point"

    def targets(self, bundle, split):
        y, boxes = (bundle.train_y, bundle.train_boxes) if split == "train" else (bundle.val_y, bundle.val_boxes)
        return y, boxes[:, :2] + boxes[:, 2:] / 2

    def loss(self, outputs, targets, config, reduction="mean"):
        sq = ((outputs[1].float() - targets[1]) ** 2).sum(1)
        return super().loss(outputs, targets, config, reduction) + (sq.sum() if reduction == "sum" else sq.mean())

    def evaluate(self, outputs, targets, num_classes):
        result = super().evaluate(outputs, targets, num_classes)
        result["row"] = {"val_point_error": round(float((outputs[1] - targets[1]).norm(dim=1).mean()), 6)}
        return result

    def decode(self, values):
        return Decoded(super().decode(values).probabilities, np.asarray(values["point"], np.float32))


@pytest.fixture
def point_task():
    register_task(POINT)
    register_runtime(PointRuntime())
    yield
    unregister_runtime("point")
    unregister_task("point")


def test_a_new_task_trains_exports_and_decodes(tmp_path, point_task):
    from cnnstudio.ml.export import output_names
    from cnnstudio.ml.inspect.models import from_onnx

    spec = {**TINY, "task": "point",
            "point_head": {"from": "flat", "layers": [{"id": "pt", "type": "linear", "out_features": 2}]}}
    assert "point" in task_names() and infer(spec).ok and output_names(spec) == ["logits", "point"]
    bad = {**spec, "point_head": {"from": "flat", "layers": [{"id": "pt", "type": "linear", "out_features": 3}]}}
    assert "must end with 2 values (x, y)" in " ".join(infer(bad).problems)
    no_boxes = list(train(spec, halves(), config(), None))[-1]
    assert isinstance(no_boxes, Failed) and "needs data with boxes" in no_boxes.message
    events = list(train(spec, halves(with_boxes=True), config(epochs=4), tmp_path / "run"))
    rows = [e.metrics for e in events if isinstance(e, EpochEnd)]
    assert isinstance(events[-1], Finished) and all("val_point_error" in r for r in rows)
    assert rows[-1]["val_point_error"] < rows[0]["val_point_error"]
    model = from_onnx(tmp_path / "run" / "model.onnx")  # the export carries the task's outputs
    x = model.prepare_samples(halves(with_boxes=True).val_x[:1])
    analysis = model.analyse(x)
    assert analysis.bbox is not None and len(analysis.bbox) == 2
    assert np.isclose(analysis.probabilities.sum(), 1.0, atol=1e-5)


def test_after_unregistering_a_task_its_networks_are_refused():
    assert "point" not in task_names()
    with pytest.raises(UserError, match="The task must be 'classification'"):
        from cnnstudio.core.spec import load_spec

        load_spec({**TINY, "task": "point"})
    with pytest.raises(UserError, match="no such task"):
        runtime("point")


def test_probabilities_are_one_softmax_that_keeps_probabilities():
    logits = np.array([[2.0, 0.0, -1.0]], np.float32)
    expected = torch.softmax(torch.from_numpy(logits), 1).numpy()
    np.testing.assert_allclose(probabilities(logits), expected, rtol=1e-6)
    np.testing.assert_allclose(probabilities(logits[0]), expected[0], rtol=1e-6)
    already = np.array([[0.25, 0.75]], np.float32)
    assert probabilities(already) is not None and np.array_equal(probabilities(already), already)


# --- a training option ---------------------------------------------------------------------------------
LABEL_SMOOTHING = train_settings.Option(
    "label_smoothing", "float", 0.0, "Label smoothing",
    "Spreads this share of each target over the other classes (0 = off)",
    minimum=0.0, maximum=0.5, exclusive_maximum=True, group="Training", searchable=True,
)


class SmoothedClassification(Classification):
    """Classification whose loss reads the new option."""

    name = "classification"

    def loss(self, outputs, targets, config, reduction="mean"):
        import torch.nn.functional as F

        return F.cross_entropy(outputs[0], targets[0], reduction=reduction,
                               label_smoothing=float(getattr(config, "label_smoothing", 0.0)))


@pytest.fixture
def label_smoothing(monkeypatch):
    """The option added to the schema, as a new Option in train_settings.OPTIONS does at import."""
    options = (*train_settings.OPTIONS, LABEL_SMOOTHING)
    config_class = train_settings.make_config_class(options)
    monkeypatch.setattr(train_settings, "OPTIONS", options)
    monkeypatch.setattr(train_settings, "TrainConfig", config_class)
    monkeypatch.setattr(trainer, "TrainConfig", config_class)  # the re-export the CLI imports
    original = runtime("classification")
    register_runtime(SmoothedClassification())
    yield config_class
    register_runtime(original)


def test_a_new_training_option_is_checked_trained_with_and_recorded(tmp_path, label_smoothing, capsys):
    from cnnstudio.cli import main

    with pytest.raises(UserError, match="label smoothing must be at least 0 and below 0.5"):
        label_smoothing.from_dict({"label_smoothing": 0.7})
    plain = finish(train(TINY, halves(), label_smoothing.from_dict({**config().to_dict()}), None, export=False))
    smooth_config = label_smoothing.from_dict({**config().to_dict(), "label_smoothing": 0.3})
    smooth = finish(train(TINY, halves(), smooth_config, None, export=False))
    assert smooth.metrics["train_loss"] > plain.metrics["train_loss"]  # smoothed targets: a higher floor
    from cnnstudio.core.spec import load_spec, save_spec

    spec_path = tmp_path / "tiny.json"
    save_spec(load_spec(TINY), spec_path)
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--label-smoothing" in capsys.readouterr().out
    code = main(["train", str(spec_path), "--data", "shapes", "--samples", "60", "--epochs", "1",
                 "--fit-classes", "--label-smoothing", "0.2", "--threads", "1", "--out", str(tmp_path / "run")])
    assert code == 0
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["training"]
    assert recorded["label_smoothing"] == 0.2
