"""Transfer learning: backbones (bundled, files, torchvision from a local file, the one download), head
replacement and freezing, and the with-transfer / from-scratch comparison."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.transfer import backbones as B
from cnnstudio.ml.transfer.compare import compare, curve_facts, few_labels, transfer_model

TINY = {
    "format": "cnnstudio-network", "version": 1, "name": "tiny backbone",
    "input": {"channels": 1, "height": 12, "width": 12}, "task": "classification",
    "classes": ["a", "b", "c"], "preprocess": {"mean": [0.5], "std": [0.5]},
    "layers": [
        {"id": "c1", "type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"id": "r1", "type": "relu"},
        {"id": "p1", "type": "maxpool2d", "kernel_size": 2, "stride": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "f1", "type": "linear", "out_features": 16},
        {"id": "r2", "type": "relu"},
        {"id": "out", "type": "linear", "out_features": 3},
    ],
}


def _drive(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


@pytest.fixture
def tiny_backbone(tmp_path):
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    spec = load_spec(TINY)
    torch.manual_seed(3)
    model = build_model(spec)
    path = B.save_backbone(tmp_path / "tiny.safetensors", spec, model, {"description": "test"})
    return path, model


def test_the_bundled_backbone_loads_offline():
    bb = B.load_backbone("bundled")
    assert bb.kind == "spec" and bb.input_shape == (1, 28, 28) and bb.head == "out"
    assert bb.blocks == ["c1", "c2", "c3", "f1", "out"]
    assert len(bb.source_classes) == 26
    assert B.bundled_backbone_path().stat().st_size < 1024 * 1024


def test_backbone_file_round_trip_and_clear_errors(tiny_backbone, tmp_path):
    path, model = tiny_backbone
    bb = B.load_backbone(path)
    for key, value in model.state_dict().items():
        assert torch.equal(bb.model.state_dict()[key], value)
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="not a valid safetensors"):
        B.load_backbone(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "newer.safetensors"),
              metadata={"format": B.BACKBONE_FORMAT, "version": "99", "spec": json.dumps(TINY)})
    with pytest.raises(UserError, match="newer"):
        B.load_backbone(tmp_path / "newer.safetensors")
    with pytest.raises(UserError, match="Unknown backbone"):
        B.load_backbone("no-such-backbone")


def test_weight_files_load_without_pickle_code(tmp_path):
    state = {"w": torch.arange(4.0)}
    torch.save({"model": state, "epoch": 3}, tmp_path / "ckpt.pt")  # a CNN Studio checkpoint is unwrapped
    loaded, _ = B.load_state_file(tmp_path / "ckpt.pt")
    assert torch.equal(loaded["w"], state["w"])

    import datetime

    torch.save({"w": datetime.date(2020, 1, 1)}, tmp_path / "evil.pth")  # needs pickle code to load
    with pytest.raises(UserError, match="cannot be read"):
        B.load_state_file(tmp_path / "evil.pth")
    with pytest.raises(UserError, match="does not exist"):
        B.load_state_file(tmp_path / "missing.pth")


def test_transfer_model_keeps_the_body_freezes_and_replaces_the_head(tiny_backbone):
    path, source = tiny_backbone
    bb = B.load_backbone(path)
    spec, model = transfer_model(bb, [str(i) for i in range(5)], ["c1"])
    assert torch.equal(model.layers["c1"].weight, source.layers["c1"].weight)
    assert torch.equal(model.layers["f1"].weight, source.layers["f1"].weight)
    assert not model.layers["c1"].weight.requires_grad and model.layers["f1"].weight.requires_grad
    assert model.layers["out"].weight.shape == (5, 16) and spec["classes"] == [str(i) for i in range(5)]
    _, scratch = transfer_model(bb, ["a", "b"], [], pretrained=False)
    assert not torch.equal(scratch.layers["c1"].weight, source.layers["c1"].weight)
    with pytest.raises(UserError, match="head"):
        transfer_model(bb, ["a"], ["out"])
    with pytest.raises(UserError, match="no block"):
        transfer_model(bb, ["a"], ["nope"])


def test_a_torchvision_backbone_from_a_local_weights_file(tmp_path):
    from safetensors.torch import save_file
    from torchvision import models

    torch.manual_seed(0)
    source = models.get_model("mobilenet_v3_small", weights=None)
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "mnv3.safetensors"))
    bb = B.load_backbone("mobilenet_v3_small", tmp_path / "mnv3.safetensors", input_size=32)
    assert bb.kind == "torchvision" and bb.head == "classifier.3" and bb.blocks == ["features", "classifier"]
    spec, model = transfer_model(bb, ["x", "y", "z"], ["features"])
    assert not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())
    model.eval()
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 3)
    assert spec["input"] == {"channels": 3, "height": 32, "width": 32}
    with pytest.raises(UserError, match="No pretrained weights"):
        B.load_backbone("resnet18")  # nothing cached in this test's TORCH_HOME, and no file given


class _FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_the_download_reports_bytes_and_lands_in_torchs_cache(tmp_path, monkeypatch):
    import hashlib
    import urllib.request

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    payload = b"x" * 200_000
    digest = hashlib.sha256(payload).hexdigest()[:8]
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=0: _FakeResponse(payload))
    url = f"https://example.invalid/weights/fake-{digest}.pth"
    gen = B.download_weights("fake", url, chunk=65536)
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            path = stop.value
            break
    assert events[-1].done == events[-1].total == len(payload) and len(events) >= 4
    assert path.read_bytes() == payload and path.parent == tmp_path / "torch" / "hub" / "checkpoints"
    assert _drive(B.download_weights("fake", url)) == path  # cached: no second download
    bad = "https://example.invalid/weights/fake-deadbeef.pth"
    with pytest.raises(UserError, match="checksum"):
        _drive(B.download_weights("fake", bad))
    assert not list((tmp_path / "torch" / "hub" / "checkpoints").glob("*deadbeef*"))


def test_curve_facts():
    facts = curve_facts([0.1, 0.4, 0.6, 0.7, 0.75, 0.8])
    assert facts.start == pytest.approx(0.1)
    assert facts.slope == pytest.approx(0.25)  # (0.6 - 0.1) / 2 over the first three epochs
    assert facts.asymptote == pytest.approx(0.75)


def test_few_labels_keeps_k_per_class_and_all_validation():
    from cnnstudio.ml.datasets import load_dataset

    data = load_dataset({"source": "digits"})
    small = few_labels(data, 4, seed=1)
    assert np.bincount(small.train_y.numpy()).tolist() == [4] * 10
    assert len(small.val_x) == len(data.val_x)
    with pytest.raises(UserError):
        few_labels(data, 0)


def test_compare_trains_both_and_fine_tunes():
    from cnnstudio.ml.datasets import load_dataset

    bb = B.load_backbone("bundled")
    data = few_labels(load_dataset({"source": "digits"}), 3)
    result = _drive(compare(bb, data, {"epochs": 2, "device": "cpu", "batch_size": 16}, ["c1", "c2", "c3"],
                            finetune_epochs=1))
    assert result.status == "completed"
    assert len(result.curves["transfer"]) == 3 and len(result.curves["scratch"]) == 3
    assert result.facts["transfer"].start == result.curves["transfer"][0]
    assert bb.model.layers["c1"].weight.requires_grad  # the backbone itself is never modified
