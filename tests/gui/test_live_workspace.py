"""The Live workspace: frames flow, the prediction shows, a missing camera or model is explained."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.ml.video import _testing as fixtures
from cnnstudio.ml.video import overlay


@pytest.fixture(scope="module")
def files(tmp_path_factory, live_models):
    folder = tmp_path_factory.mktemp("gui-live")
    return {
        "video": fixtures.write_test_video(folder / "clip.avi", frames=20, width=320, height=240),
        "ink": Path(shutil.copy(live_models["ink"], folder / "ink.onnx")),  # a test adds a run beside it
    }


@pytest.fixture
def workspace(make_workspace):
    return make_workspace("live", size=(1000, 700))


def play_clip(ws, files, qtbot, until=None):
    """Play the test clip through the ink model and wait (20 s at most) until ``until()`` holds, by default
    until a frame is shown."""
    ws.set_source(str(files["video"]))
    ws.set_model(files["ink"])
    ws.activated()
    qtbot.waitUntil(until or (lambda: ws.view.frames_shown > 0), timeout=20000)


def test_frames_flow_and_the_prediction_is_shown(workspace, files, qtbot):
    ws = workspace
    play_clip(ws, files, qtbot,
              until=lambda: ws.view.frames_shown >= 5 and ws.last_result is not None and bool(ws.last_result.top))
    qtbot.waitUntil(lambda: ws.panel.prediction_label.text().startswith("ink"), timeout=20000)
    assert ws.smoke_ready()
    shown = ws.view.image_item.image
    assert shown.shape == (240, 320, 3)
    assert tuple(shown[2, 2][::-1]) == overlay.PANEL  # the overlay drawn on the frame (shown as RGB)
    assert ws.panel.bar_names[0].text() == "ink" and ws.panel.bars[0].value() > 900
    assert "frames/s shown" in ws.panel.fps_label.text()
    assert "inference" in ws.panel.latency_label.text()
    assert ws.banner_text() == ""
    first = ws.view.frames_shown
    qtbot.waitUntil(lambda: ws.view.frames_shown > first + 5, timeout=10000)  # still flowing


def test_a_missing_camera_is_explained_and_retried(workspace, files, qtbot):
    import cv2

    ws = workspace
    calls = []

    def no_camera(index):
        calls.append(index)
        return cv2.VideoCapture()  # never opens

    ws.camera_factory = no_camera
    ws.set_source("0")
    ws.set_model(files["ink"])
    ws.activated()
    qtbot.waitUntil(lambda: "Camera 0 is not available" in ws.view.message(), timeout=10000)
    assert "Retrying" in ws.view.message()
    assert ws.view.banner.isVisible()
    assert ws.view.frames_shown == 0
    ws.set_source(str(files["video"]))  # the GUI never blocked: switching works at once
    qtbot.waitUntil(lambda: ws.view.frames_shown > 0 and ws.view.message() == "", timeout=10000)


def test_the_missing_bundled_model_is_explained(workspace, qtbot, tmp_path, monkeypatch):
    import cnnstudio.ml.video.runners as runners
    from cnnstudio.gui.workspaces.live.workspace import demo_folder

    monkeypatch.setattr(runners, "models_dir", lambda: tmp_path)
    ws = workspace
    ws.set_source(str(demo_folder()))
    ws.activated()
    qtbot.waitUntil(ws.smoke_ready, timeout=10000)
    assert "bundled digits model" in ws.view.message()
    assert ws.model_state == "missing"
    assert ws.panel.model_combo.itemText(0).endswith("(not there yet)")


def test_roi_box_feeds_the_pipeline(workspace, files, qtbot):
    ws = workspace
    play_clip(ws, files, qtbot)
    assert ws.pipeline.roi == pytest.approx((0.275, 0.2, 0.45, 0.6))  # the centred square
    ws.view.set_roi_pixels((0, 0, 64, 48))
    assert ws.pipeline.roi == pytest.approx((0.0, 0.0, 0.2, 0.2))
    ws.panel.roi_check.setChecked(False)
    assert ws.pipeline.roi is None
    ws.panel.roi_check.setChecked(True)
    assert ws.pipeline.roi == pytest.approx((0.0, 0.0, 0.2, 0.2))


def test_snapshot_recording_and_feature_maps(workspace, files, qtbot, tmp_path):
    import cv2

    ws = workspace
    play_clip(ws, files, qtbot, until=lambda: ws.model_state == "ready" and ws.view.frames_shown > 0)
    snap = ws.save_snapshot(tmp_path / "snap.png")
    assert cv2.imread(str(snap)).shape == (240, 320, 3)
    ws.start_recording(tmp_path / "rec.avi")
    qtbot.waitUntil(lambda: ws.session.recorder.frames >= 5, timeout=10000)
    path, frames = ws.stop_recording()
    assert path == tmp_path / "rec.avi" and frames >= 5
    assert ws.panel.layer_combo.count() == 3
    ws.panel.features_check.setChecked(True)
    qtbot.waitUntil(lambda: ws.panel.features_item.image is not None, timeout=10000)
    assert ws.panel.features_item.image.dtype == np.uint8


def test_runs_of_the_project_are_offered(workspace, files, tmp_path):
    run = tmp_path / "run-7"
    run.mkdir()
    (run / "model.onnx").write_bytes(Path(files["ink"]).read_bytes())
    workspace.ctx.document.add_run({"name": "lenet-a", "path": str(run)})
    texts = [workspace.panel.model_combo.itemText(i) for i in range(workspace.panel.model_combo.count())]
    assert "Run lenet-a" in texts
    assert texts[-1] == "ONNX file…"
    workspace.ctx.document.mark_clean()


def test_choosing_a_run_names_it_in_the_status_bar(workspace, files, qtbot):
    run = Path(files["ink"]).parent / "run-9"
    run.mkdir(exist_ok=True)
    (run / "model.onnx").write_bytes(Path(files["ink"]).read_bytes())
    ws = workspace
    ws.ctx.document.add_run({"name": "lenet-b", "path": str(run)})
    messages = []
    ws.ctx.status_message.connect(lambda text, _ms: messages.append(text))
    ws.set_source(str(files["video"]))
    ws.activated()
    index = ws.panel.model_combo.findText("Run lenet-b")
    ws.panel.model_combo.setCurrentIndex(index)
    ws.panel.model_combo.activated.emit(index)
    qtbot.waitUntil(lambda: any(m.startswith("Live: Run lenet-b") for m in messages), timeout=20000)
    shown = next(m for m in messages if m.startswith("Live: Run lenet-b"))
    assert shown.startswith("Live: Run lenet-b runs on ") and "ExecutionProvider" not in shown  # a readable name
    ws.ctx.document.mark_clean()


def test_hiding_the_workspace_releases_the_source_and_showing_resumes(workspace, files, qtbot):
    ws = workspace
    play_clip(ws, files, qtbot)
    ws.hide()
    assert ws.session.status is None  # capture and inference threads stopped
    ws.show()
    shown = ws.view.frames_shown
    qtbot.waitUntil(lambda: ws.view.frames_shown > shown, timeout=10000)


def test_a_camera_index_not_found_is_named_and_empty_prediction_rows_are_hidden(workspace, files, qtbot):
    import cv2

    ws = workspace
    ws.camera_factory = lambda index: cv2.VideoCapture()  # no camera at all
    ws.set_source("7")
    combo = ws.panel.source_combo
    assert combo.currentText() == "Camera 7 (not found)" and combo.currentData() == "7"
    ws.set_source(str(files["video"]))
    assert combo.findData("7") == -1  # the index left with the choice
    ws.set_model(files["ink"])
    ws.activated()
    qtbot.waitUntil(lambda: ws.panel.prediction_label.text().startswith("ink"), timeout=20000)
    classes = len(ws.runner.meta.class_names)
    rows = [ws.panel._bars_form.isRowVisible(i) for i in range(len(ws.panel.bars))]
    assert rows == [i < min(3, classes) for i in range(len(rows))]  # no empty bars under the answer


def test_a_source_that_cannot_open_leaves_the_playing_one_chosen(workspace, files, qtbot, tmp_path, monkeypatch):
    import cnnstudio.gui.workspaces.live.workspace as live

    monkeypatch.setattr(live, "SOURCE_ERROR_MS", 50)
    ws = workspace
    play_clip(ws, files, qtbot)
    missing = str(tmp_path / "gone.mp4")
    ws.set_source(missing)
    assert "does not exist" in ws.banner_text()
    combo = ws.panel.source_combo
    assert combo.currentData() == str(files["video"]) and combo.findData(missing) == -1
    qtbot.waitUntil(lambda: ws.banner_text() == "", timeout=5000)  # the note goes; the video played on
    shown = ws.view.frames_shown
    qtbot.waitUntil(lambda: ws.view.frames_shown > shown, timeout=10000)
