"""Detection in the GUI: Inspect draws every predicted object beside the true ones; Live boxes each one."""

from __future__ import annotations

import numpy as np


def _confident_detector():
    """The detector template with class 0 scoring everywhere: NMS leaves a few boxes of half the image."""
    import torch

    from cnnstudio.ml.inspect.models import from_spec

    model = from_spec("detector")
    head = model.torch_model.layers["head"].out
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-8.0)
        head.bias[0] = 4.0
        head.bias[5:] = 0.0  # the box values: cell centres, half the image wide
    return model


def test_inspect_draws_predicted_and_true_objects(qtbot, tmp_path):
    from cnnstudio.gui.workspaces.inspect.predictions_view import PredictionsView
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.session import InspectSession

    session = InspectSession()
    session.set_dataset(load_dataset({"source": "multishapes", "num_samples": 40, "seed": 0}))
    session.set_model(_confident_detector())
    index = next(i for i in range(session.sample_count) if (session.dataset.val_objects[i, :, 0] >= 0).sum() >= 2)
    session.use_sample(index)
    assert session.analysis.objects is not None and len(session.analysis.objects) >= 1
    assert session.input.objects is not None and len(session.input.objects) >= 2
    view = PredictionsView()
    qtbot.addWidget(view)
    view.resize(720, 420)
    view.show()
    view.show_prediction(session)
    assert "Found" in view.summary.text() and "in the image" in view.summary.text()
    predicted, truth = view.predicted.image(), view.truth.image()
    assert predicted is not None and truth is not None and view.truth.isVisible()
    assert np.any((predicted[:, :, 0] > 200) & (predicted[:, :, 1] < 90))  # class 0's red boxes
    assert np.any((truth[:, :, 1] > 150) & (truth[:, :, 0] < 80))  # the true boxes in green
    view.grab().save(str(tmp_path / "detection.png"))


def test_live_draws_one_box_and_label_per_object(tmp_path):
    from cnnstudio.ml.video.pipeline import LivePipeline
    from cnnstudio.ml.video.runners import TorchRunner

    model = _confident_detector()
    runner = TorchRunner(model.torch_model, model.meta, "detector")
    pipeline = LivePipeline(runner, roi=None, top_k=3, draw=True)
    frame = np.zeros((480, 640, 3), np.uint8)
    result = pipeline.process(frame.copy())
    assert len(result.objects) >= 1 and result.box is None
    for (_x, _y, w, h), name, score in result.objects:
        assert name == "circle" and 0 < score <= 1 and w > 100 and h > 100
    assert result.to_json()["objects"][0]["class"] == "circle"
    assert (result.image != 0).any()


def test_designer_switches_to_detection_and_shows_the_head_live(make_workspace, ctx, tmp_path):
    designer = make_workspace("designer", size=(1300, 850))
    settings = designer.settings_panel
    settings.task.setCurrentIndex(settings.task.findData("detection"))
    spec = designer.spec()
    assert spec["task"] == "detection" and spec["layers"][-1]["type"] == "detect_head"
    summary = designer.summary()
    assert summary.ok and summary.output_shape == (14, 5, 5)  # 10 digit classes + 4 box values per cell
    head = designer.stack.stack_model.ids()[-1]
    assert head == spec["layers"][-1]["id"]
    assert designer.load_template("detector") and designer.summary().total_params == 54_185
    designer.grab().save(str(tmp_path / "designer.png"))


def test_data_thumbnails_outline_every_object(qtbot):
    from cnnstudio.gui.workspaces.data.loading import pick_samples, preview_images
    from cnnstudio.gui.workspaces.data.sample_grid import SampleGrid
    from cnnstudio.ml.datasets import load_dataset

    bundle = load_dataset({"source": "multishapes", "num_samples": 30, "seed": 0})
    samples = pick_samples(bundle, 10)
    assert samples.boxes is not None and samples.boxes.ndim == 3 and samples.boxes.shape[2] == 4
    grid = SampleGrid()
    qtbot.addWidget(grid)
    grid.show_samples(samples, bundle.classes)
    assert "objects" in grid._model.item(0).toolTip()
    cells, cell_boxes = preview_images(samples, {"flip": 1.0}, seed=0, task="detection")
    assert cell_boxes is None and len(cells)
