"""Run folders: load_run, load_run_model, run history, resuming a cancelled run exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.bundle import DatasetBundle
from cnnstudio.ml.runs import list_runs, load_run, load_run_model, new_run_dir, resume_run
from cnnstudio.ml.trainer import BatchEnd, Finished, TrainConfig, TrainControl, train

TINY = {
    "name": "tiny",
    "input": {"channels": 1, "height": 8, "width": 8},
    "task": "classification",
    "classes": ["left", "right"],
    "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"id": "r1", "type": "relu"},
        {"id": "d1", "type": "dropout", "p": 0.2},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ],
}


def halves(n: int = 200, seed: int = 0) -> DatasetBundle:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.3
    y = torch.randint(0, 2, (n,), generator=g)
    x[y == 0, :, :, :4] += 0.6
    x[y == 1, :, :, 4:] += 0.6
    cut = n * 3 // 4
    return DatasetBundle(x[:cut], y[:cut], x[cut:], y[cut:], ["left", "right"])


def config(**kw) -> TrainConfig:
    base = {"epochs": 4, "batch_size": 16, "lr": 0.01, "seed": 3, "device": "cpu", "threads": 1}
    base.update(kw)
    return TrainConfig.from_dict(base)


def finish(events) -> Finished:
    result = None
    for event in events:
        result = event
    assert isinstance(result, Finished), getattr(result, "message", result)
    return result


def test_a_resumed_run_ends_exactly_like_an_uninterrupted_one(tmp_path):
    data = halves()
    straight = finish(train(TINY, data, config(), tmp_path / "straight"))

    control = TrainControl()
    first = None
    for event in train(TINY, data, config(), tmp_path / "resumed", control):
        first = event
        if isinstance(event, BatchEnd) and event.epoch == 3:
            control.cancel()
    assert isinstance(first, Finished) and first.status == "cancelled"
    info = load_run(tmp_path / "resumed")
    assert info.status == "cancelled" and info.resumable and info.epochs_done == 2
    assert [p.name for p in info.checkpoints] == ["epoch1.pt", "epoch2.pt", "best.pt", "last.pt"]

    resumed = finish(resume_run(tmp_path / "resumed", data=data))
    assert resumed.status == "completed"
    keys = ("train_loss", "val_loss", "val_accuracy")
    assert [resumed.metrics[k] for k in keys] == [straight.metrics[k] for k in keys]
    _, a = load_run_model(tmp_path / "straight")
    _, b = load_run_model(tmp_path / "resumed")
    for (name, ta), tb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(ta, tb), name
    rows = load_run(tmp_path / "resumed").history
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    # the per-epoch weight files of the resumed run are those of the uninterrupted one
    for n in (1, 2, 3, 4):
        _, a = load_run_model(tmp_path / "straight", f"epoch{n}.pt")
        _, b = load_run_model(tmp_path / "resumed", f"epoch{n}.pt")
        assert torch.equal(a.layers["c1"].weight, b.layers["c1"].weight), n
    assert not load_run(tmp_path / "resumed").resumable


def test_resume_reloads_the_data_from_the_run_config(tmp_path):
    data_config = {"source": "shapes", "num_samples": 60, "image_size": 24, "seed": 0, "val_fraction": 0.2}
    spec = {**TINY, "input": {"channels": 3, "height": 12, "width": 12}, "classes": []}
    spec["layers"] = [*TINY["layers"][:-1], {"id": "out", "type": "linear", "out_features": 5}]
    control = TrainControl()
    events = []
    for event in train(spec, data_config, config(epochs=2), tmp_path / "run", control):
        events.append(event)
        if isinstance(event, BatchEnd) and event.epoch == 2:
            control.cancel()
    assert isinstance(events[-1], Finished) and events[-1].status == "cancelled", events[-1]
    assert load_run(tmp_path / "run").config["data"]["source"] == "shapes"
    result = finish(resume_run(tmp_path / "run", epochs=3))
    assert result.metrics["epoch"] == 3
    assert load_run(tmp_path / "run").spec["classes"] == ["circle", "square", "triangle", "star", "cross"]


def test_load_run_model_matches_the_exported_onnx(tmp_path):
    from cnnstudio.ml.onnx_model import OnnxModel

    finish(train(TINY, halves(), config(epochs=2), tmp_path / "run"))
    info = load_run(tmp_path / "run")
    assert info.status == "completed" and info.onnx_path is not None
    assert [p.name for p in info.checkpoints] == ["epoch1.pt", "epoch2.pt", "best.pt", "last.pt"]
    xs, ys = info.series("val_accuracy")
    assert xs == [1, 2] and len(ys) == 2
    spec, model = load_run_model(tmp_path / "run")
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        expected = model(x).numpy()
    got = OnnxModel(info.onnx_path).run(x.numpy())["logits"]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert spec["classes"] == ["left", "right"]
    _, best = load_run_model(tmp_path / "run", "best")
    assert not best.training


def test_checkpoint_names_and_order(tmp_path):
    from cnnstudio.ml.runs import (
        epoch_checkpoint_name,
        epoch_checkpoints,
        epoch_of_checkpoint,
        order_checkpoints,
    )

    assert epoch_checkpoint_name(7) == "epoch7.pt"
    assert [epoch_of_checkpoint(n) for n in ("epoch12.pt", "last.pt", "best.pt", "epoch.pt", "epoch3.pt.tmp",
                                             "my-epoch3.pt", "epoch_3.pt")] == [12, None, None, None, None, None, None]
    names = ["last.pt", "epoch10.pt", "notes.pt", "epoch2.pt", "best.pt", "epoch1.pt"]
    assert [p.name for p in order_checkpoints(names)] == [
        "epoch1.pt", "epoch2.pt", "epoch10.pt", "best.pt", "last.pt", "notes.pt"]
    (tmp_path / "checkpoints").mkdir()
    for name in names:
        (tmp_path / "checkpoints" / name).write_bytes(b"")
    assert [(n, p.name) for n, p in epoch_checkpoints(tmp_path)] == [(1, "epoch1.pt"), (2, "epoch2.pt"),
                                                                     (10, "epoch10.pt")]
    assert epoch_checkpoints(tmp_path / "missing") == []


def test_list_runs_and_new_run_dir(tmp_path):
    root = tmp_path / "runs"
    assert list_runs(root) == []
    first = new_run_dir(root, "My Net!")
    assert first.name.startswith("my-net-")
    finish(train(TINY, halves(), config(epochs=1), first))
    second = new_run_dir(root, "My Net!")
    assert second != first
    finish(train(TINY, halves(), config(epochs=1), second))
    (root / "not-a-run").mkdir()
    runs = list_runs(root)
    assert [r.path for r in runs] == [first, second]
    assert all(r.final["epoch"] == 1 for r in runs)


def test_bad_run_folders_and_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a training run"):
        load_run(tmp_path / "empty")
    finish(train(TINY, halves(), config(epochs=1), tmp_path / "run", export=False))
    with pytest.raises(UserError, match="no checkpoint"):
        load_run_model(tmp_path / "run", "epoch7.pt")
    (tmp_path / "run" / "checkpoints" / "last.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="corrupt"):
        load_run_model(tmp_path / "run")
    config_path = tmp_path / "run" / "config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "version": 99}))
    with pytest.raises(UserError, match="newer"):
        load_run(tmp_path / "run")
    with pytest.raises(UserError, match="no checkpoint to resume"):
        (tmp_path / "fresh").mkdir()
        for name in ("config.json", "spec.json"):
            (tmp_path / "fresh" / name).write_text((tmp_path / "run" / name).read_text().replace('"version": 99', '"version": 1'))
        resume_run(tmp_path / "fresh")
