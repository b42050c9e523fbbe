"""Inspecting a training run: its trained model, kernels per checkpoint, predictions and mistakes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.errors import UserError


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder as the trainer writes it: spec.json and checkpoints/{best,last}.pt of two epochs."""
    import torch

    from cnnstudio.core.spec import load_spec, save_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import CHECKPOINT_FORMAT, save_checkpoint

    out = tmp_path_factory.mktemp("run") / "lenet-digits"
    (out / "checkpoints").mkdir(parents=True)
    spec = load_spec("lenet5")
    save_spec(spec, out / "spec.json")
    (out / "config.json").write_text(json.dumps({"format": "cnnstudio-run", "version": 1, "name": out.name,
                                                 "data": {"source": "digits", "seed": 0}}))
    torch.manual_seed(0)
    model = build_model(spec)
    save_checkpoint(out / "checkpoints" / "best.pt", {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": 1,
                                                       "model": model.state_dict()})
    with torch.no_grad():
        model.layers["c1"].weight.mul_(1.5)
    save_checkpoint(out / "checkpoints" / "last.pt", {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": 2,
                                                       "model": model.state_dict()})
    return out


def test_run_model_kernels_and_mistakes(run_dir):
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.kernels import checkpoint_kernels, torch_conv_weights
    from cnnstudio.ml.inspect.models import from_run
    from cnnstudio.ml.inspect.session import InspectSession

    model = from_run(run_dir)
    assert model.kind == "torch" and model.run_dir == run_dir
    assert model.first_conv() == "c1"
    snapshots = checkpoint_kernels(run_dir)
    assert [s.epoch for s in snapshots] == [1, 2]
    np.testing.assert_allclose(snapshots[1].weights["c1"], 1.5 * snapshots[0].weights["c1"], rtol=1e-6)
    from cnnstudio.ml.inspect.kernels import kernel_change

    assert kernel_change(snapshots, "c1")[1] == pytest.approx(0.5, rel=1e-4)
    np.testing.assert_allclose(snapshots[-1].weights["c1"], torch_conv_weights(model.torch_model)["c1"])
    assert set(snapshots[-1].weights) == {"c1", "c3"}

    session = InspectSession()
    session.set_dataset(load_dataset({"source": "digits", "seed": 0}))
    session.set_model(model)
    analysis = session.use_sample(3)
    assert analysis.features["c1"].shape == (6, 28, 28)
    mistakes = session.mistakes()
    probs, _ = model.predict_batch(model.prepare_samples(session.dataset.val_x))
    wrong = int((probs.argmax(1) != session.dataset.val_y.numpy()).sum())
    assert len(mistakes) == wrong
    assert all(a.confidence >= b.confidence for a, b in zip(mistakes, mistakes[1:]))
    assert session.validation_accuracy() == pytest.approx(1 - wrong / len(probs))
    # neighbours of a validation sample exclude itself; the nearest has the same class more often than not
    found = session.neighbours(5)
    assert 3 not in found.indices and len(found.indices) == 5


def test_not_a_run_folder(tmp_path):
    from cnnstudio.ml.inspect.models import from_run

    with pytest.raises(UserError, match="not a training run"):
        from_run(tmp_path)


def test_epoch_zero_is_the_trainers_initial_weights(tmp_path):
    """The kernels slider starts before training: rebuilt from the run's seed exactly as the trainer built
    them (checked against a real run whose learning rate is too small to move a weight)."""
    import torch

    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.kernels import checkpoint_kernels, initial_kernels
    from cnnstudio.ml.trainer import train

    data = load_dataset({"source": "digits", "seed": 0})
    config = {"epochs": 1, "lr": 1e-12, "optimizer": "sgd", "momentum": 0.0, "schedule": "none", "seed": 5,
              "batch_size": 256, "threads": 1}
    events = list(train("lenet5", data, config, tmp_path / "run", export=False))
    assert type(events[-1]).__name__ == "Finished"
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    snapshots = checkpoint_kernels(tmp_path / "run")
    assert torch.rand(1) == expected_next  # rebuilding the initial weights leaves the caller's RNG alone
    assert [s.epoch for s in snapshots] == [0, 1] and snapshots[0].path is None
    np.testing.assert_allclose(snapshots[0].weights["c1"], snapshots[1].weights["c1"], atol=1e-6)
    assert [s.epoch for s in checkpoint_kernels(tmp_path / "run", with_initial=False)] == [1]
    assert initial_kernels(tmp_path) is None  # not a run: no epoch 0, no error


def _few_digits():
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.datasets.bundle import DatasetBundle

    d = load_dataset({"source": "digits", "seed": 0})
    return DatasetBundle(d.train_x[:160], d.train_y[:160], d.val_x[:60], d.val_y[:60], d.classes, name="digits")


def test_kernel_history_of_a_trained_run_steps_through_every_epoch(tmp_path):
    """A real run writes epoch1.pt ... epochN.pt; the slider is epoch 0, 1, ..., N in order (best.pt and
    last.pt fold into the epoch they hold) and the kernels move between every two epochs."""
    import torch

    from cnnstudio.ml.inspect.kernels import checkpoint_kernels, kernel_change
    from cnnstudio.ml.trainer import train

    config = {"epochs": 4, "lr": 0.005, "batch_size": 32, "schedule": "none", "seed": 2, "threads": 1,
              "device": "cpu"}
    events = list(train("lenet5", _few_digits(), config, tmp_path / "run", export=False))
    assert type(events[-1]).__name__ == "Finished"
    snapshots = checkpoint_kernels(tmp_path / "run")
    assert [s.epoch for s in snapshots] == [0, 1, 2, 3, 4]
    assert [s.path.name for s in snapshots[1:]] == ["epoch1.pt", "epoch2.pt", "epoch3.pt", "epoch4.pt"]
    assert "last.pt" in snapshots[-1].sources and "epoch4.pt" in snapshots[-1].sources
    best = json.loads((tmp_path / "run" / "metrics.json").read_text())["best_epoch"]
    assert "best.pt" in snapshots[best].sources
    for layer in ("c1", "c3"):
        change = kernel_change(snapshots, layer)
        assert change[0] == 0.0 and all(c > 1e-4 for c in change[1:]), (layer, change)
    saved = torch.load(tmp_path / "run" / "checkpoints" / "epoch2.pt", weights_only=True)["model"]
    np.testing.assert_array_equal(snapshots[2].weights["c1"], saved["layers.c1.weight"].numpy())


def test_kernel_history_of_a_capped_run_and_of_plain_state_dict_files(tmp_path):
    """A big model keeps only some epoch files; best.pt fills in its own epoch. Files holding a bare
    state_dict (saved by hand) are read too, their epoch taken from the name."""
    import torch

    from cnnstudio.core.spec import load_spec, save_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.inspect.kernels import checkpoint_kernels
    from cnnstudio.ml.trainer import CHECKPOINT_FORMAT, save_checkpoint

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    spec = load_spec("lenet5")
    save_spec(spec, run / "spec.json")
    (run / "config.json").write_text(json.dumps({"format": "cnnstudio-run", "version": 1, "name": "run"}))
    model = build_model(spec)
    scale = {}
    for epoch in range(1, 13):
        with torch.no_grad():
            model.layers["c1"].weight.mul_(1.1)
        scale[epoch] = model.layers["c1"].weight.detach().clone()
        payload = {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch, "model": model.state_dict()}
        if epoch in (6, 12):
            save_checkpoint(run / "checkpoints" / f"epoch{epoch}.pt", payload)
        if epoch == 12:
            save_checkpoint(run / "checkpoints" / "last.pt", payload)
        if epoch == 8:
            save_checkpoint(run / "checkpoints" / "best.pt", payload)
        if epoch == 2:
            torch.save(model.state_dict(), run / "checkpoints" / "epoch2.pt")
    snapshots = checkpoint_kernels(run)  # no seed in the config: no epoch 0
    assert [s.epoch for s in snapshots] == [2, 6, 8, 12]
    assert [s.sources for s in snapshots] == [("epoch2.pt",), ("epoch6.pt",), ("best.pt",), ("epoch12.pt", "last.pt")]
    for snap in snapshots:
        np.testing.assert_array_equal(snap.weights["c1"], scale[snap.epoch].numpy())
    (run / "checkpoints" / "epoch6.pt").write_bytes(b"garbage")
    with pytest.raises(UserError, match="epoch6.pt is corrupt"):
        checkpoint_kernels(run)
