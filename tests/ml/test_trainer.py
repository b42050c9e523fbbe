"""The trainer generator: events, run folder, learning, reproducibility, cancel/pause, NaN, freezing."""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.bundle import DatasetBundle
from cnnstudio.ml.trainer import (
    BatchEnd,
    CheckpointSaved,
    EpochEnd,
    Failed,
    Finished,
    Started,
    TrainConfig,
    TrainControl,
    load_checkpoint,
    lr_at,
    train,
)

TINY = {
    "name": "tiny",
    "input": {"channels": 1, "height": 8, "width": 8},
    "task": "classification",
    "classes": ["left", "right"],
    "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"id": "r1", "type": "relu"},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ],
}

ROW_KEYS = {"epoch", "train_loss", "val_loss", "val_accuracy", "seconds", "images_per_second"}


def halves(n: int = 240, seed: int = 0) -> DatasetBundle:
    """Class 0: the left half is bright; class 1: the right half (easy to learn)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g) * 0.3
    y = torch.randint(0, 2, (n,), generator=g)
    x[y == 0, :, :, :4] += 0.6
    x[y == 1, :, :, 4:] += 0.6
    cut = n * 3 // 4
    return DatasetBundle(x[:cut], y[:cut], x[cut:], y[cut:], ["left", "right"], name="halves")


def few_digits(train: int = 160, val: int = 60) -> DatasetBundle:
    """A small slice of the bundled digits (LeNet-5's 28x28 inputs) for quick real-model runs."""
    from cnnstudio.ml.datasets import load_dataset

    d = load_dataset({"source": "digits", "seed": 0})
    return DatasetBundle(d.train_x[:train], d.train_y[:train], d.val_x[:val], d.val_y[:val], d.classes, name="digits")


def config(**kw) -> TrainConfig:
    base = {"epochs": 3, "batch_size": 16, "lr": 0.01, "seed": 0, "device": "cpu", "threads": 1,
            "schedule": "none"}
    base.update(kw)
    return TrainConfig.from_dict(base)


def run_all(*args, **kwargs) -> list:
    return list(train(*args, **kwargs))


def test_events_and_run_folder(tmp_path):
    events = run_all(TINY, halves(), config(), tmp_path / "run")
    assert isinstance(events[0], Started) and events[0].epochs == 3 and events[0].start_epoch == 1
    assert isinstance(events[-1], Finished) and events[-1].status == "completed"
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert len(batches) == 3 * events[0].batches_per_epoch
    assert batches[-1].images_done == batches[-1].images_total == 3 * 180
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    assert {e.kind for e in saved} == {"last", "best", "epoch"}
    assert [(e.epoch, e.path) for e in saved if e.kind == "epoch"] == [
        (n, str(tmp_path / "run" / "checkpoints" / f"epoch{n}.pt")) for n in (1, 2, 3)]
    assert epochs[-1].confusion.shape == (2, 2) and epochs[-1].confusion.sum() == 60
    assert epochs[-1].val_predictions.shape == (60,)

    run = tmp_path / "run"
    for name in ("config.json", "spec.json", "metrics.jsonl", "metrics.json", "model.onnx",
                 "checkpoints/last.pt", "checkpoints/best.pt"):
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(ROW_KEYS <= set(r) for r in rows)
    summary = json.loads((run / "metrics.json").read_text())
    assert summary["status"] == "completed"
    assert set(summary["final"]) == set(summary["best"]) == set(rows[0])
    assert summary["final"] == rows[-1]
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["format"] == "cnnstudio-run" and cfg["training"]["epochs"] == 3
    payload = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert payload["epoch"] == 3 and "optimizer" in payload and "model" in payload


def test_every_epoch_keeps_its_weights_in_a_small_weights_only_file(tmp_path):
    """checkpoints/epoch{N}.pt: the weights after epoch N (no optimizer state), loadable weights-only."""
    from cnnstudio.ml.builder import build_model

    run_all("lenet5", few_digits(), config(epochs=3, batch_size=32, lr=0.002), tmp_path / "run", export=False)
    folder = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["best.pt", "epoch1.pt", "epoch2.pt", "epoch3.pt", "last.pt"]
    states = []
    for n in (1, 2, 3):
        payload = torch.load(folder / f"epoch{n}.pt", weights_only=True)
        assert payload["epoch"] == n and "optimizer" not in payload
        model = build_model("lenet5")
        model.load_state_dict(payload["model"])  # every key, every shape
        assert all(t.device.type == "cpu" for t in payload["model"].values())
        states.append(payload["model"])
    last = torch.load(folder / "last.pt", weights_only=True)
    assert all(torch.equal(states[-1][k], v) for k, v in last["model"].items())
    assert not torch.equal(states[0]["layers.c1.weight"], states[1]["layers.c1.weight"])
    assert (folder / "epoch3.pt").stat().st_size < (folder / "last.pt").stat().st_size / 2  # no Adam moments
    # an epoch file is written atomically: no temporary file is left beside it
    assert not [p for p in folder.iterdir() if p.suffix != ".pt"]


def test_epoch_file_cap_rule():
    """Every epoch up to 4 MiB of weights (within 256 MiB for the whole run); else 20 evenly spaced, with
    the last; a small model in a very long run keeps as many as fit in 256 MiB."""
    from cnnstudio.ml.trainer import epoch_files_kept, keeps_epoch_file

    mib = 1024 * 1024
    lenet = 61_706 * 4

    def kept(epochs, size):
        return [e for e in range(1, epochs + 1) if keeps_epoch_file(e, epochs, size)]

    assert kept(15, lenet) == list(range(1, 16))
    assert kept(64, 4 * mib) == list(range(1, 65))  # 64 x 4 MiB = the 256 MiB budget
    assert kept(5, 4 * mib + 1) == [1, 2, 3, 4, 5]  # fewer epochs than 20: all of them
    assert kept(20, 100 * mib) == list(range(1, 21))
    assert kept(100, 4 * mib + 1) == list(range(5, 101, 5))
    big = kept(50, 40 * mib)
    assert len(big) == 20 and big[-1] == 50 and big[0] == 3
    gaps = {b - a for a, b in zip(big, big[1:])}
    assert gaps <= {2, 3}  # evenly spaced: ceil(k * 50 / 20)
    assert len(kept(1000, lenet)) == 1000
    assert epoch_files_kept(100_000, lenet) == 256 * mib // lenet < 100_000
    long_run = kept(5000, lenet)
    assert len(long_run) == 256 * mib // lenet and long_run[-1] == 5000
    assert kept(100, 4 * mib) == [e for e in range(1, 101) if keeps_epoch_file(e, 100, 4 * mib)]
    assert len(kept(100, 4 * mib)) == 64
    assert kept(1, 10**12) == [1]


def test_a_big_model_keeps_evenly_spaced_epoch_files_and_the_last(tmp_path, monkeypatch):
    """The cap applied in a real run (the size limit lowered so that the tiny net counts as big)."""
    import cnnstudio.ml.trainer as trainer

    monkeypatch.setattr(trainer, "EPOCH_FILES_SMALL_MODEL_BYTES", 16)
    monkeypatch.setattr(trainer, "EPOCH_FILES_SPACED", 2)
    events = run_all(TINY, halves(), config(epochs=5), tmp_path / "run", export=False)
    assert [e.epoch for e in events if isinstance(e, CheckpointSaved) and e.kind == "epoch"] == [3, 5]
    folder = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in folder.glob("epoch*.pt")) == ["epoch3.pt", "epoch5.pt"]
    # early stopping keeps the epoch it stopped after, even where the plan had none
    events = run_all(TINY, halves(), config(epochs=40, lr=0.05, early_stopping=2), tmp_path / "early", export=False)
    stopped = events[-1].metrics["epoch"]
    assert events[-1].status == "early_stopped" and stopped < 20
    assert sorted(p.name for p in (tmp_path / "early" / "checkpoints").glob("epoch*.pt")) == [f"epoch{stopped}.pt"]


def test_a_fresh_run_in_an_old_folder_drops_the_old_epoch_files(tmp_path):
    run_all(TINY, halves(), config(epochs=3), tmp_path / "run", export=False)
    run_all(TINY, halves(), config(epochs=2), tmp_path / "run", export=False)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("epoch*.pt")) == ["epoch1.pt", "epoch2.pt"]


def test_learns_an_easy_task():
    events = run_all(TINY, halves(), config(epochs=4), None)
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.metrics["val_accuracy"] >= 0.95
    assert final.metrics["train_loss"] < 0.3


def test_same_seed_same_run_other_seed_other_run():
    a = run_all(TINY, halves(), config(), None)[-1].metrics
    b = run_all(TINY, halves(), config(), None)[-1].metrics
    c = run_all(TINY, halves(), config(seed=1), None)[-1].metrics
    keys = ("train_loss", "val_loss", "val_accuracy")
    assert [a[k] for k in keys] == [b[k] for k in keys]
    assert a["train_loss"] != c["train_loss"]


def test_cancel_between_batches_keeps_a_resumable_checkpoint(tmp_path):
    control = TrainControl()
    events = []
    for event in train(TINY, halves(), config(epochs=5), tmp_path / "run", control):
        events.append(event)
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == 2:
            control.cancel()
    final = events[-1]
    assert isinstance(final, Finished) and final.status == "cancelled"
    assert final.metrics["epoch"] == 1
    assert [e.batch for e in events if isinstance(e, BatchEnd) and e.epoch == 2] == [1, 2]
    assert not (tmp_path / "run" / "model.onnx").exists()
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["epoch"] == 1
    assert [p.name for p in (tmp_path / "run" / "checkpoints").glob("epoch*.pt")] == ["epoch1.pt"]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "cancelled"


def test_pause_blocks_until_resumed():
    control = TrainControl()
    timer = threading.Timer(0.3, control.resume)
    gen = train(TINY, halves(), config(epochs=1), None, control)
    try:
        assert isinstance(next(gen), Started)
        assert isinstance(next(gen), BatchEnd)
        control.pause()
        assert control.paused
        start = time.perf_counter()
        timer.start()
        event = next(gen)  # the batch in progress finishes, then the trainer waits
        while not isinstance(event, BatchEnd) or event.batch < 3:
            event = next(gen)
        waited = time.perf_counter() - start
    finally:
        timer.join()
        gen.close()
    assert waited >= 0.25
    assert not control.paused


class NaNAfterFirstEpoch(torch.nn.Module):
    """A tiny classifier whose output becomes NaN once ``poisoned`` is set."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleDict({"flat": torch.nn.Flatten(), "out": torch.nn.Linear(64, 2)})
        self.poisoned = False

    def forward(self, x):
        out = self.layers["out"](self.layers["flat"](x))
        return out * float("nan") if self.poisoned else out


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    model = NaNAfterFirstEpoch()
    events = []
    for event in train(TINY, halves(), config(epochs=4), tmp_path / "run", model=model, export=False):
        events.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            model.poisoned = True
    final = events[-1]
    assert isinstance(final, Failed)
    assert "NaN or infinite" in final.message and "epoch 2" in final.message
    assert final.checkpoint and final.checkpoint.endswith("last.pt")
    payload = load_checkpoint(final.checkpoint)
    assert payload["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in payload["model"].values())
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["status"] == "failed" and "NaN" in summary["message"]


def test_frozen_layers_stay_frozen():
    from cnnstudio.ml.builder import build_model

    spec = json.loads(json.dumps(TINY))
    spec["layers"][0]["trainable"] = False
    torch.manual_seed(0)
    model = build_model(spec)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    final = run_all(spec, halves(), config(epochs=2), None, model=model)[-1]
    assert isinstance(final, Finished)
    after = model.state_dict()
    assert torch.equal(before["layers.c1.weight"], after["layers.c1.weight"])
    assert torch.equal(before["layers.c1.bias"], after["layers.c1.bias"])
    assert not torch.equal(before["layers.out.weight"], after["layers.out.weight"])


def test_all_frozen_is_a_clear_failure():
    spec = json.loads(json.dumps(TINY))
    for layer in spec["layers"]:
        layer["trainable"] = False
    final = run_all(spec, halves(), config(epochs=1), None)[-1]
    assert isinstance(final, Failed) and "frozen" in final.message


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_every_optimizer_learns(optimizer):
    lr = 0.1 if optimizer == "sgd" else 0.01
    final = run_all(TINY, halves(), config(optimizer=optimizer, lr=lr, epochs=4, weight_decay=1e-4), None)[-1]
    assert final.metrics["val_accuracy"] >= 0.9


def test_schedules_and_early_stopping():
    cfg = config(epochs=9, lr=0.1, schedule="step")
    assert [lr_at(cfg, e) for e in (1, 3, 4, 7)] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    cfg = config(epochs=4, lr=0.1, schedule="cosine")
    assert lr_at(cfg, 1) == pytest.approx(0.1) and lr_at(cfg, 3) == pytest.approx(0.05)
    events = run_all(TINY, halves(), config(epochs=30, lr=0.05, early_stopping=2), None)
    final = events[-1]
    assert final.status == "early_stopped" and "no better validation loss" in final.message
    assert final.metrics["epoch"] < 30
    assert final.metrics["epoch"] - final.best["epoch"] == 2


def test_mixed_precision_is_a_no_op_on_cpu():
    events = run_all(TINY, halves(), config(mixed_precision=True, epochs=2), None)
    assert events[0].mixed_precision is False
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0}, "learning rate"),
        ({"lr": "fast"}, "lr"),
        ({"batch_size": 0}, "batch size"),
        ({"epochs": 2.5}, "epochs"),
        ({"schedule": "linear"}, "schedule"),
        ({"momentum": 1.5}, "momentum"),
        ({"device": "tpu"}, "device"),
        ({"early_stopping": -1}, "Early stopping"),
    ],
)
def test_bad_settings_are_one_clear_sentence(settings, words):
    with pytest.raises(UserError, match=words):
        TrainConfig.from_dict(settings)


def test_unknown_keys_in_the_project_section_are_ignored():
    assert TrainConfig.from_dict({"epochs": 2, "notes": "x"}).epochs == 2


def test_class_count_mismatch_and_missing_boxes_fail_clearly():
    data = halves()
    three = DatasetBundle(data.train_x, data.train_y, data.val_x, data.val_y, ["a", "b", "c"])
    final = run_all(TINY, three, config(), None)[-1]
    assert isinstance(final, Failed) and "3 classes" in final.message and "out_features 3" in final.message
    loc = dict(TINY, task="localization", box_head={"from": "flat", "layers": [
        {"id": "b1", "type": "linear", "out_features": 4}]})
    final = run_all(loc, data, config(), None)[-1]
    assert isinstance(final, Failed) and "no boxes" in final.message


def test_unavailable_device_is_a_clear_failure():
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    final = run_all(TINY, halves(), config(device="cuda"), None)[-1]
    assert isinstance(final, Failed) and "CUDA" in final.message


def squares(n: int = 200, seed: int = 0) -> DatasetBundle:
    """16x16 RGB: one red or green square on a dark background, with its box."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g) * 0.2
    y = torch.randint(0, 2, (n,), generator=g)
    boxes = torch.zeros(n, 4)
    for i in range(n):
        size = int(torch.randint(4, 9, (1,), generator=g))
        px, py = (int(v) for v in torch.randint(0, 16 - size + 1, (2,), generator=g))
        x[i, int(y[i]), py:py + size, px:px + size] = 1.0
        boxes[i] = torch.tensor([px / 16, py / 16, size / 16, size / 16])
    cut = n * 3 // 4
    return DatasetBundle(x[:cut], y[:cut], x[cut:], y[cut:], ["red", "green"], task="localization",
                         train_boxes=boxes[:cut], val_boxes=boxes[cut:])


LOC = {
    "name": "tiny-loc",
    "input": {"channels": 3, "height": 16, "width": 16},
    "task": "localization",
    "classes": ["red", "green"],
    "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"id": "r1", "type": "relu"},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 2},
    ],
    "box_head": {"from": "flat", "layers": [{"id": "b1", "type": "linear", "out_features": 4}]},
}


@pytest.mark.parametrize("box_loss", ["smooth_l1", "giou"])
def test_localization_learns_class_and_box(tmp_path, box_loss):
    events = run_all(LOC, squares(), config(epochs=8, lr=0.01, batch_size=16, box_loss=box_loss),
                     tmp_path / "run")
    rows = [e.metrics for e in events if isinstance(e, EpochEnd)]
    final = events[-1]
    assert isinstance(final, Finished), getattr(final, "message", "")
    assert all("val_iou" in r for r in rows)
    assert final.metrics["val_accuracy"] >= 0.9
    assert rows[-1]["val_iou"] > rows[0]["val_iou"] and rows[-1]["val_iou"] > 0.3
    assert (tmp_path / "run" / "model.onnx").is_file()
    assert "val_iou" in json.loads((tmp_path / "run" / "metrics.json").read_text())["best"]


def test_lenet5_learns_digits():
    """The Targets' accuracy with a small budget: LeNet-5 on digits, 4 epochs."""
    from cnnstudio.ml.datasets import load_dataset

    final = run_all("lenet5", load_dataset({"source": "digits"}), config(epochs=4, lr=0.002, batch_size=16), None)[-1]
    assert isinstance(final, Finished)
    assert final.metrics["val_accuracy"] >= 0.9


def test_shapes_localizer_learns_shapes():
    """The localization target with a small budget: fewer images and epochs, a clear learning signal."""
    from cnnstudio.ml.datasets import load_dataset

    data = load_dataset({"source": "shapes", "num_samples": 600})
    events = run_all("shapes-localizer", data, config(epochs=5, lr=0.002, batch_size=16, schedule="cosine"), None)
    final = events[-1]
    assert isinstance(final, Finished), getattr(final, "message", "")
    first = next(e.metrics for e in events if isinstance(e, EpochEnd))
    assert final.metrics["val_accuracy"] >= 0.6
    assert final.metrics["val_iou"] >= 0.5 and final.metrics["val_iou"] > first["val_iou"]


def test_augmentation_from_the_data_settings_is_applied_per_batch():
    """Augmented runs differ from plain ones, stay reproducible and still learn."""
    data_config = {"augment": {"shift": 0.1, "noise": 0.05}}
    plain = run_all(TINY, halves(), config(epochs=4), None)[-1].metrics
    a = run_all(TINY, halves(), config(epochs=4), None, data_config=data_config)[-1].metrics
    b = run_all(TINY, halves(), config(epochs=4), None, data_config=data_config)[-1].metrics
    assert a["train_loss"] != plain["train_loss"]
    assert a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
    assert a["val_accuracy"] >= 0.9
    bad = run_all(TINY, halves(), config(), None, data_config={"augment": {"spin": 1}})[-1]
    assert isinstance(bad, Failed) and "Unknown augmentation" in bad.message


class OutOfMemoryInTraining(NaNAfterFirstEpoch):
    def forward(self, x):
        if self.training:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().forward(x)


def test_out_of_memory_suggests_a_smaller_batch():
    final = run_all(TINY, halves(), config(batch_size=64), None, model=OutOfMemoryInTraining())[-1]
    assert isinstance(final, Failed)
    assert "ran out of memory with batch size 64" in final.message and "for example 32" in final.message


def test_a_run_folder_that_cannot_be_written_is_a_clear_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    final = run_all(TINY, halves(), config(epochs=1), blocker / "run")[-1]
    assert isinstance(final, Failed)
    assert final.message.startswith(f"Training stopped: cannot use {blocker}")  # the OS words the reason


def test_a_tail_of_one_image_is_counted_in_the_progress_total():
    """30 training images in batches of 29: the 30th joins the last batch, so done == total."""
    events = run_all(TINY, halves(40), config(epochs=2, batch_size=29), None)
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert batches[-1].images_done == batches[-1].images_total == 2 * 30


def test_a_seed_too_large_for_the_epoch_seeds_is_refused_before_training():
    """seed * 1,000,003 + epoch must fit torch's 64-bit seed; it used to fail after the run had started."""
    with pytest.raises(UserError, match="seed must be from 0 to 2,147,483,647"):
        config(seed=10**14)
    assert config(seed=2**31 - 1).seed == 2**31 - 1
