"""The run folder module: one checkpoint loader for the trainer, runs, export and Inspect; versioned
files; and no import cycles between the trainer, runs, export and Inspect's modules."""

from __future__ import annotations

import json

import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml import run_folder as rf
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.datasets.bundle import DatasetBundle
from cnnstudio.ml.trainer import Finished, TrainConfig, train

TINY = {
    "name": "tiny",
    "input": {"channels": 1, "height": 8, "width": 8},
    "classes": ["a", "b"],
    "layers": [{"id": "flat", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 2}],
}


def tiny_run(path):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(40, 1, 8, 8, generator=g), torch.randint(0, 2, (40,), generator=g)
    data = DatasetBundle(x[:30], y[:30], x[30:], y[30:], ["a", "b"])
    config = TrainConfig.from_dict({"epochs": 1, "device": "cpu", "threads": 1})
    assert isinstance(list(train(TINY, data, config, path, export=False))[-1], Finished)
    return path


def test_one_loader_reads_trainer_and_plain_checkpoints(tmp_path):
    model = build_model(TINY)
    rf.save_checkpoint(tmp_path / "ours.pt", {"epoch": 3, "model": model.state_dict()})
    payload = rf.load_checkpoint(tmp_path / "ours.pt")
    assert payload["format"] == rf.CHECKPOINT_FORMAT and payload["version"] == 1 and payload["epoch"] == 3
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    assert set(rf.load_checkpoint(tmp_path / "plain.pt")["model"]) == set(model.state_dict())
    with pytest.raises(UserError, match="does not exist"):
        rf.load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize(
    "content, words",
    [(b"garbage", "is corrupt or cannot be read"), ([1, 2], "holds no model weights"),
     ({"format": rf.CHECKPOINT_FORMAT, "version": 9, "model": {}}, "newer CNN Studio")],
)
def test_every_checkpoint_reader_gives_the_loaders_sentence(tmp_path, content, words):
    """The trainer's, the run API's, the exporter's and Inspect's readers are one function."""
    from cnnstudio.ml.export import load_export_source
    from cnnstudio.ml.inspect.kernels import checkpoint_kernels
    from cnnstudio.ml.runs import load_run_model

    run = tiny_run(tmp_path / "run")
    last = run / "checkpoints" / "last.pt"
    for path in run.glob("checkpoints/*.pt"):
        path.unlink()
    if isinstance(content, bytes):
        last.write_bytes(content)
    else:
        torch.save(content, last)
    for read in (rf.load_checkpoint, lambda p: load_run_model(run, p), lambda p: load_export_source(run, checkpoint="last.pt")):
        with pytest.raises(UserError, match=words):
            read(last)
    with pytest.raises(UserError, match=words):
        checkpoint_kernels(run)


def test_run_files_are_versioned(tmp_path):
    run = tiny_run(tmp_path / "run")
    info = rf.load_run(run)
    assert info.config["format"] == rf.RUN_FORMAT and info.summary["format"] == rf.METRICS_FORMAT
    summary = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").write_text(json.dumps({**summary, "version": 7}))
    with pytest.raises(UserError, match="newer"):
        rf.load_run(run)


def test_no_import_cycles_between_trainer_runs_export_and_inspect():
    import grimp

    graph = grimp.build_graph("cnnstudio")
    groups = [("cnnstudio.ml.trainer", "cnnstudio.ml.runs", "cnnstudio.ml.export", "cnnstudio.ml.run_folder",
               "cnnstudio.ml.training.writer"),
              ("cnnstudio.ml.inspect.kernels", "cnnstudio.ml.inspect.models", "cnnstudio.ml.inspect.session")]
    for group in groups:
        for a in group:
            for b in group:
                if a < b and graph.chain_exists(a, b):
                    assert not graph.chain_exists(b, a), (graph.find_shortest_chain(a, b), graph.find_shortest_chain(b, a))
