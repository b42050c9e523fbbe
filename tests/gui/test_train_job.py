"""The Train workspace's job resumes a run through the CLI's function (cnnstudio.ml.runs.resume_run)."""

from __future__ import annotations

import threading

from cnnstudio.gui.workspaces.train.job import DataReady, training_job
from cnnstudio.ml import runs
from cnnstudio.ml.train_events import BatchEnd, Failed, Finished, TrainControl

DATA = {"source": "shapes", "num_samples": 60, "image_size": 24, "seed": 0, "val_fraction": 0.25}
SPEC = {
    "name": "tiny", "input": {"channels": 3, "height": 12, "width": 12},
    "classes": ["circle", "square", "triangle", "star", "cross"],
    "layers": [{"id": "flat", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 5}],
}
TRAINING = {"epochs": 2, "batch_size": 10, "device": "cpu", "threads": 1}


def test_resume_goes_through_resume_run(tmp_path, monkeypatch):
    control = TrainControl()
    for event in training_job(SPEC, DATA, TRAINING, str(tmp_path / "run"), control, threading.Event()):
        if isinstance(event, BatchEnd) and event.epoch == 2:
            control.cancel()
    assert isinstance(event, Finished) and event.status == "cancelled", event
    calls = []
    original = runs.resume_run

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "resume_run", counting)
    events = list(training_job(None, None, None, str(tmp_path / "run"), TrainControl(), threading.Event(), True))
    assert isinstance(events[0], DataReady) and isinstance(events[-1], Finished), events[-1]
    assert events[-1].status == "completed" and events[-1].metrics["epoch"] == 2
    assert calls == [str(tmp_path / "run")]
    (tmp_path / "run" / "checkpoints" / "last.pt").unlink()
    failed = list(training_job(None, None, None, str(tmp_path / "run"), TrainControl(), threading.Event(), True))[-1]
    assert isinstance(failed, Failed) and "no checkpoint to resume" in failed.message
