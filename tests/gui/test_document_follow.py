"""Issue 18 items 1-2: runs are never undone, the dirty state is exact, every view follows the document and job."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from cnnstudio.core.project import ProjectDocument


def test_undo_of_an_unrelated_edit_keeps_a_recorded_run_and_the_star(main_window, tmp_path):
    ctx, doc = main_window.ctx, main_window.ctx.document
    path = tmp_path / "p.cnnproj"
    doc.save(path)
    assert main_window.open_project(path)
    doc.add_run({"name": "run-1", "path": "runs/run-1"})  # what Train records when a run starts
    assert main_window.isWindowModified()
    network = doc.get("network")
    network["layers"][0]["out_channels"] = 7
    ctx.edit("network", network, "Set out channels")
    main_window.action_undo.trigger()
    assert [r["name"] for r in doc.runs] == ["run-1"]
    assert doc.dirty and main_window.isWindowModified(), "the unsaved run keeps the project dirty"
    asked = []
    main_window.ask_save_changes = lambda: asked.append(1) or QMessageBox.StandardButton.Cancel
    assert not main_window.maybe_save() and asked, "Quit asks about the unsaved run"
    assert main_window.save_project()
    assert not main_window.isWindowModified()
    main_window.action_redo.trigger()
    assert main_window.isWindowModified()
    main_window.action_undo.trigger()
    assert not main_window.isWindowModified(), "undo back to the saved state is clean"
    reopened = ProjectDocument()
    reopened.load(path)
    assert [r["name"] for r in reopened.runs] == ["run-1"]


def test_runs_are_not_an_undoable_section(ctx):
    with pytest.raises(KeyError):
        ctx.edit("runs", [], "Remove runs")


@pytest.fixture
def train_ws(make_workspace, ctx, tiny_spec):
    ctx.document.set("network", tiny_spec("digits"))
    training = ctx.document.get("training")
    training.update(epochs=3, batch_size=64, lr=0.01, device="cpu")
    ctx.document.set("training", training)
    return make_workspace("train", size=(1200, 800))


def test_the_cell_drill_down_follows_new_epochs_and_a_new_run(train_ws, qtbot):
    from cnnstudio.gui.workspaces.train.job import DataReady
    from cnnstudio.ml.train_events import EpochEnd

    ws = train_ws
    labels = np.array([0, 0, 0, 1, 1], dtype=np.int64)
    ws._on_event(DataReady(("a", "b"), np.zeros((5, 4, 4, 3), np.uint8), labels, "classification"))

    def epoch(n, predictions):
        confusion = np.zeros((2, 2), np.int64)
        for t, p in zip(labels, predictions):
            confusion[t, p] += 1
        ws._on_event(EpochEnd(n, 3, {"epoch": n, "val_loss": 1.0}, confusion=confusion,
                              val_predictions=np.array(predictions, np.int64)))
        qtbot.waitUntil(lambda: ws.confusion.matrix.tolist() == confusion.tolist(), timeout=5000)

    epoch(1, [0, 0, 0, 1, 1])
    ws.confusion.cell_chosen.emit(0, 0)
    assert ws.cell_images.count == 3
    epoch(2, [0, 1, 1, 1, 1])  # two images of 'a' are now mistaken: the open cell lists one
    assert ws.cell_images.count == 1 and ws.cell_images.title.text().startswith("1 validation image")
    ws._forget_cell()  # what a new run does (_launch)
    assert ws.cell_images.count == 0 and "Click a cell" in ws.cell_images.title.text()


@pytest.mark.slow
def test_history_shows_live_epochs_and_a_new_project_clears_train(train_ws, ctx, qtbot):
    ws = train_ws
    seen = []
    handle = ws._on_event

    def spy(event):
        handle(event)
        if type(event).__name__ == "EpochEnd" and ws.history.rowCount():
            seen.append((ws.history.item(0, 1).text(), ws.history.item(0, 2).text()))

    ws._on_event = spy  # the worker's yielded signal is connected when the run starts
    ws.start()
    qtbot.waitUntil(lambda: ws.result is not None and not ws.running and not ws._workers, timeout=60_000)
    assert ("running", "1/3") in seen and ("running", "2/3") in seen, seen
    assert ws.history.item(0, 2).text() == "3/3"
    ws.confusion.cell_chosen.emit(1, 1)
    assert ws.confusion.rowCount() == 10 and len(ws.curves.data_of("val_loss")[0]) == 3
    ctx.document.new()
    assert ws.confusion.rowCount() == 0 and ws.curves.data_of("val_loss") == ([], [])
    assert ws.curves.data_of("train_accuracy") == ([], []) and ws.cell_images.count == 0
    assert ws.history.rowCount() == 0 and ws.progress_label.text() == "Ready."


def test_live_clears_a_dead_sources_last_frame_speed_and_answer(make_workspace, live_models, qtbot):
    from cnnstudio.ml.video import _testing as fixtures

    ws = make_workspace("live", size=(1000, 700))

    frames_left = [60]  # shared by every capture the workspace opens (it probes cameras too)

    class DyingCamera:
        """Delivers 60 frames in all, then stops (unplugged) and never opens again."""

        frame = fixtures.paper_frame(320, 240, digit="3")

        def isOpened(self):  # noqa: N802 - cv2 API
            return frames_left[0] > 0

        def read(self):
            if frames_left[0] <= 0:
                return False, None
            frames_left[0] -= 1
            time.sleep(0.01)
            return True, self.frame.copy()

        def set(self, *_args):
            return True

        def get(self, *_args):
            return 30.0

        def release(self):
            pass

    ws.camera_factory = lambda index: DyingCamera()
    ws.set_model(live_models["ink"])
    ws.set_source("0")
    ws.activated()
    qtbot.waitUntil(lambda: ws.view.frames_shown > 0, timeout=20000)
    qtbot.waitUntil(lambda: "stopped delivering frames" in ws.view.message(), timeout=20000)
    qtbot.waitUntil(lambda: ws.view.image_item.image is None, timeout=5000)
    assert ws.last_result is None
    assert ws.panel.fps_label.text() == "–" and ws.panel.latency_label.text() == "–"
    assert ws.panel.prediction_label.text() == "–"
