"""The Inspect workspace: feature maps of a digit by default, channel enlarging, inputs, models, tabs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def workspace(ctx, qtbot):
    from cnnstudio.gui.workspaces.inspect import Workspace

    ws = Workspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1200, 760)
    ws.show()
    ws.activated()
    qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    yield ws
    ws.shutdown()


def _handmade_onnx(path, input_shape):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).normal(size=(3, input_shape[1], 3, 3)).astype(np.float32)
    fc = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "w"], ["conv_out"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv_out"], ["relu_out"]),
        helper.make_node("GlobalAveragePool", ["relu_out"], ["gap_out"]),
        helper.make_node("Flatten", ["gap_out"], ["flat_out"]),
        helper.make_node("Gemm", ["flat_out", "fc"], ["scores"], transB=1),
    ]
    out_shape = [input_shape[0], 4]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, out_shape)],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(fc, "fc")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_default_state_shows_feature_maps_of_a_digit(workspace, qtbot):
    ws = workspace
    session = ws.session
    assert session.model is not None and session.model.meta.input_shape == (1, 28, 28)
    assert session.input is not None and session.input.sample == 0 and session.input.label is not None
    first = session.model.first_conv()
    assert ws.current_layer() == first
    assert ws.features.strip.current() == first
    grid = ws.features.grid.image()
    assert grid is not None and grid.ndim == 3 and grid.std() > 5  # a colourful grid, not a blank
    assert "channel" in ws.features.caption.text()
    assert ws.input_view.image() is not None
    assert len(ws.top_bars.items()) == 3

    # click channel 2 of the grid: it is enlarged beside the input
    qtbot.mouseClick(ws.features.grid, Qt.MouseButton.LeftButton, pos=ws.features.tile_center(2))
    assert "channel 2" in ws.channel_caption.text()
    expected = session.analysis.features[first][2]
    from cnnstudio.ml.inspect.render import render_channel

    np.testing.assert_array_equal(ws.channel_view.image(), render_channel(expected, "viridis", 224))

    # another layer from the strip
    second = [t.name for t in session.model.tensors if t.spatial][2]
    ws.features.strip.button(second).click()
    assert ws.current_layer() == second
    assert ws.features.grid.image().shape != grid.shape or not np.array_equal(ws.features.grid.image(), grid)

    # another sample refreshes the maps
    before = session.analysis.features[second].copy()
    ws.sources.sample.setValue(5)
    assert session.input.sample == 5
    assert not np.allclose(session.analysis.features[second], before)


def test_tabs_show_kernels_predictions_saliency_neighbours_and_mistakes(workspace):
    ws = workspace
    ws.tabs.setCurrentWidget(ws.kernels)
    assert ws.kernels.grid.image() is not None and ws.kernels.layer.count() >= 2
    ws.tabs.setCurrentWidget(ws.predictions)
    assert len(ws.predictions.bars.items()) == 5
    assert "Predicted" in ws.predictions.summary.text()
    ws.tabs.setCurrentWidget(ws.saliency)
    assert ws.saliency.overlay.image() is not None, ws.saliency.caption.text()
    ws.saliency.method.setCurrentIndex(1)
    assert ws.saliency.overlay.image() is not None
    ws.tabs.setCurrentWidget(ws.similar)
    found = ws.similar.last_neighbours
    assert len(found.indices) == 8 and 0 not in found.indices  # the input itself is excluded
    assert np.all(np.diff(found.distances) >= 0)
    x, y = ws.similar._xy[3]
    assert ws.similar.nearest_point(x, y, (1e-6, 1e-6)) == 3  # hovering a point finds it
    assert ws.similar.nearest_point(x + 1e6, y, (1.0, 1.0)) is None  # far from every point: nothing
    ws.similar.show_hover(3)
    assert "#3" in ws.similar.hover_label.text()
    ws.tabs.setCurrentWidget(ws.mistakes)
    shown = ws.mistakes.shown()
    if shown:  # clicking a mistake makes it the input
        confidences = [m.confidence for m in shown]
        assert confidences == sorted(confidences, reverse=True)
        ws.mistakes.sample_chosen.emit(shown[0].index)
        assert ws.session.input.sample == shown[0].index
    else:
        assert "No mistakes" in ws.mistakes.grid.message()


def test_dropped_image_and_foreign_onnx_model(workspace, tmp_path, qtbot):
    import cv2

    ws = workspace
    image_path = tmp_path / "seven.png"
    img = np.full((40, 40), 255, np.uint8)
    cv2.line(img, (8, 8), (32, 8), 0, 4)
    cv2.line(img, (32, 8), (16, 34), 0, 4)
    cv2.imwrite(str(image_path), img)
    assert ws.open_file(image_path)
    assert ws.session.input.title == "seven.png" and ws.session.input.sample is None
    assert ws.features.grid.image() is not None
    shown = ws.input_view.image()  # as the model sees it: white paper turned dark by the metadata's invert
    assert np.max(shown[2, 2]) < 30 and "as the model sees it" in ws.input_caption.text()

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    assert ws.open_file(bad)
    assert "broken.png" in ws.sources.status.text() and "not a readable image" in ws.sources.status.text()
    assert ws.session.input.title == "seven.png"  # the previous input stays
    assert not ws.open_file(tmp_path / "notes.txt")

    model_path = tmp_path / "foreign.onnx"
    _handmade_onnx(model_path, (1, 1, 28, 28))
    assert ws.open_file(model_path)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert ws.session.model.kind == "onnx" and not ws.session.model.meta.ours
    assert ws.current_layer() == "conv_out"
    assert ws.features.strip.names() == ["conv_out", "relu_out", "gap_out", "flat_out"]
    assert "foreign.onnx" in ws.sources.model.currentText()
    ws.tabs.setCurrentWidget(ws.saliency)
    assert "PyTorch" in ws.saliency.caption.text()  # a foreign ONNX model cannot be differentiated

    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "vector",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 10])])
    vector_path = tmp_path / "vector.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(vector_path))
    assert ws.open_file(vector_path)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert "image model" in ws.sources.status.text()
    assert ws.session.model.kind == "onnx" and ws.current_layer() == "conv_out"  # the last good model stays


def test_a_run_of_the_project_with_kernels_over_epochs(workspace, ctx, tmp_path, qtbot):
    import torch

    from cnnstudio.core.spec import load_spec, save_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import CHECKPOINT_FORMAT, save_checkpoint

    run = tmp_path / "runs" / "first"
    (run / "checkpoints").mkdir(parents=True)
    spec = load_spec("lenet5")
    save_spec(spec, run / "spec.json")
    (run / "config.json").write_text('{"format": "cnnstudio-run", "version": 1, "name": "first"}')
    model = build_model(spec)
    for epoch, name in ((1, "best.pt"), (2, "epoch2.pt"), (3, "last.pt")):
        with torch.no_grad():
            model.layers["c1"].weight.add_(0.1)
        save_checkpoint(run / "checkpoints" / name,
                        {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": epoch, "model": model.state_dict()})
    ctx.document.add_run({"name": "first", "path": str(run)})
    ws = workspace
    index = ws.sources.model.findText("Run: first")
    assert index >= 0
    ws.sources.model.setCurrentIndex(index)
    ws.sources.model.activated.emit(index)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert ws.session.model.run_dir == run
    ws.tabs.setCurrentWidget(ws.kernels)
    assert ws.kernels.epoch.isEnabled() and ws.kernels.epoch.maximum() == 2
    last = ws.kernels.grid.image().copy()
    ws.kernels.epoch.setValue(0)
    assert "epoch 1" in ws.kernels.epoch_label.text()
    assert ws.kernels.grid.image().shape == last.shape


def test_kernel_slider_steps_through_every_epoch_of_a_trained_run(workspace, ctx, tmp_path, qtbot):
    """A real 5-epoch run: the slider goes epoch 0 (initial weights), 1, 2, ... 5 in order, best.pt and
    last.pt are not extra positions, and every step shows other kernels."""
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.trainer import train

    d = load_dataset({"source": "digits", "seed": 0})
    data = DatasetBundle(d.train_x[:160], d.train_y[:160], d.val_x[:60], d.val_y[:60], d.classes, name="digits")
    run = tmp_path / "runs" / "five"
    config = {"epochs": 5, "lr": 0.005, "batch_size": 32, "schedule": "none", "seed": 1, "threads": 1,
              "device": "cpu"}
    assert type(list(train("lenet5", data, config, run, export=False))[-1]).__name__ == "Finished"
    ctx.document.add_run({"name": "five", "path": str(run)})
    ws = workspace
    index = ws.sources.model.findText("Run: five")
    ws.sources.model.setCurrentIndex(index)
    ws.sources.model.activated.emit(index)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    ws.tabs.setCurrentWidget(ws.kernels)
    view = ws.kernels
    assert view.epoch.isEnabled() and (view.epoch.minimum(), view.epoch.maximum(), view.epoch.value()) == (0, 5, 5)
    assert "the last epoch" in view.caption.text()
    labels, images = [], []
    for position in range(6):
        view.epoch.setValue(position)
        labels.append(view.epoch_label.text())
        images.append(view.grid.image().copy())
    assert labels == [f"epoch {n}" for n in range(6)]
    assert all(not np.array_equal(a, b) for a, b in zip(images, images[1:]))
    view.epoch.setValue(0)
    assert "initial random weights" in view.caption.text()
    view.epoch.setValue(3)
    assert "since epoch 2" in view.caption.text()


def test_localization_prediction_draws_predicted_and_true_boxes(qtbot):
    from cnnstudio.gui.workspaces.inspect.predictions_view import PredictionsView
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.models import from_spec
    from cnnstudio.ml.inspect.session import InspectSession

    session = InspectSession()
    session.set_dataset(load_dataset({"source": "shapes", "num_samples": 60, "seed": 0}))
    session.set_model(from_spec("shapes-localizer"))
    session.use_sample(2)
    assert session.analysis.bbox is not None and session.input.box is not None
    view = PredictionsView()
    qtbot.addWidget(view)
    view.show()
    view.show_prediction(session)
    predicted, truth = view.predicted.image(), view.truth.image()
    assert predicted is not None and truth is not None and view.truth.isVisible()
    # the boxes are drawn in their colours: red-ish for the prediction, green for the truth
    assert np.any((predicted[:, :, 0] > 200) & (predicted[:, :, 1] < 90))
    assert np.any((truth[:, :, 1] > 150) & (truth[:, :, 0] < 80))
    assert len(view.bars.items()) == min(5, len(session.model.meta.class_names))


class _FakeCamera:
    def __init__(self, opened: bool = True):
        self.opened = opened
        self.frame = np.full((48, 64, 3), 255, np.uint8)
        self.frame[10:40, 28:36] = 0  # a dark "1" on white paper (BGR)

    def isOpened(self):  # noqa: N802 - the cv2.VideoCapture API
        return self.opened

    def read(self):
        return True, self.frame.copy()

    def set(self, *_args):
        return True

    def get(self, *_args):
        return 30.0

    def release(self):
        self.opened = False


def test_camera_snapshot_becomes_the_input(workspace, qtbot):
    ws = workspace
    ws.take_snapshot(lambda _index: _FakeCamera())
    qtbot.waitUntil(lambda: ws.sources.camera.isEnabled(), timeout=10000)
    assert ws.session.input.title == "camera snapshot" and ws.session.input.display.shape == (48, 64, 3)
    ws.take_snapshot(lambda _index: _FakeCamera(opened=False))
    qtbot.waitUntil(lambda: ws.sources.camera.isEnabled(), timeout=10000)
    assert "Camera 0 is not available" in ws.sources.status.text()
    assert ws.session.input.title == "camera snapshot"


def test_a_run_is_shown_with_the_data_it_was_trained_on(workspace, ctx, tmp_path, qtbot):
    """The project's data is digits; a shapes run must be fed shapes (with their true boxes), not digits."""
    from cnnstudio.core.spec import load_spec, save_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import CHECKPOINT_FORMAT, save_checkpoint

    run = tmp_path / "runs" / "loc"
    (run / "checkpoints").mkdir(parents=True)
    spec = load_spec("shapes-localizer")
    save_spec(spec, run / "spec.json")
    (run / "config.json").write_text('{"format": "cnnstudio-run", "version": 1, "name": "loc", "data": '
                                     '{"source": "shapes", "num_samples": 60, "seed": 0, "image_size": 64}}')
    save_checkpoint(run / "checkpoints" / "last.pt",
                    {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": 1, "model": build_model(spec).state_dict()})
    ctx.document.add_run({"name": "shapes localizer", "path": str(run)})
    ws = workspace
    assert ws.session.input.sample is not None and "circle" not in ws.session.dataset.classes  # digits first
    index = ws.sources.model.findText("Run: shapes localizer")
    ws.sources.model.setCurrentIndex(index)
    ws.sources.model.activated.emit(index)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert "circle" in ws.session.dataset.classes and 0 < ws.session.sample_count < 20
    assert ws.session.input.box is not None and ws.session.input.display.shape == (64, 64, 3)
    assert ws.sources.status.text().startswith("run shapes localizer:")
    # back to the bundled digits model: the project's digits come back
    ws.sources.model.setCurrentIndex(0)
    ws.sources.model.activated.emit(0)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert "circle" not in ws.session.dataset.classes and ws.session.input.box is None
    # an opened file's status line gives way to the model's when a dataset sample is picked again
    import cv2

    image = tmp_path / "paper.png"
    cv2.imwrite(str(image), np.full((40, 30), 250, np.uint8))
    assert ws.open_image(image) and ws.sources.status.text().startswith("paper.png:")
    ws.use_sample(1)
    assert ws.sources.status.text().startswith("Bundled LeNet-5") and ws.session.input.sample == 1


def test_a_new_project_drops_the_old_projects_run(workspace, ctx, tmp_path, qtbot):
    from cnnstudio.core.spec import load_spec, save_spec
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.trainer import CHECKPOINT_FORMAT, save_checkpoint

    run = tmp_path / "runs" / "old"
    (run / "checkpoints").mkdir(parents=True)
    spec = load_spec("lenet5")
    save_spec(spec, run / "spec.json")
    (run / "config.json").write_text('{"format": "cnnstudio-run", "version": 1, "name": "old"}')
    save_checkpoint(run / "checkpoints" / "last.pt",
                    {"format": CHECKPOINT_FORMAT, "version": 1, "epoch": 1, "model": build_model(spec).state_dict()})
    ctx.document.add_run({"name": "old", "path": str(run)})
    ws = workspace
    index = ws.sources.model.findText("Run: old")
    ws.sources.model.setCurrentIndex(index)
    ws.sources.model.activated.emit(index)
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert ws.session.model.run_dir == run
    ctx.document.new()
    qtbot.waitUntil(ws.smoke_ready, timeout=30000)
    assert ws.session.model.run_dir is None and ws.sources.current_source() == ("bundled", "")
    assert ws.sources.model.findText("Run: old") == -1


def test_the_dataset_module_and_torch_load_on_the_worker_not_the_gui_thread(ctx, qtbot, monkeypatch):
    """``cnnstudio.ml.datasets`` imports torch (seconds on a cold start): never on the GUI thread."""
    import builtins
    import threading

    from cnnstudio.gui.workspaces.inspect import Workspace

    on_gui_thread = []
    real_import = builtins.__import__

    def recording_import(name, *args, **kwargs):
        if name.startswith("cnnstudio.ml.datasets") and threading.current_thread() is threading.main_thread():
            on_gui_thread.append(name)
        return real_import(name, *args, **kwargs)

    ws = Workspace(ctx)
    qtbot.addWidget(ws)
    monkeypatch.setattr(builtins, "__import__", recording_import)
    try:
        ws.activated()
        qtbot.waitUntil(ws.smoke_ready, timeout=60000)
    finally:
        monkeypatch.undo()
        ws.shutdown()
    assert ws.session.dataset is not None
    assert on_gui_thread == []
