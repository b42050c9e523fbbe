"""Segmentation in the GUI: Inspect colours the predicted and the true classes of the pixels; Live colours them."""

from __future__ import annotations

import numpy as np


def _square_finder():
    """The segmenter template scoring "square" (class 2) on every pixel."""
    import torch

    from cnnstudio.ml.inspect.models import from_spec

    model = from_spec("segmenter")
    scores = model.torch_model.layers["scores"]
    with torch.no_grad():
        scores.weight.zero_()
        scores.bias.fill_(-5.0)
        scores.bias[2] = 5.0
    return model


def test_inspect_colours_predicted_and_true_pixels(qtbot, tmp_path):
    from cnnstudio.gui.workspaces.inspect.predictions_view import PredictionsView
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.session import InspectSession
    from cnnstudio.ml.tasks.segmentation import PALETTE

    session = InspectSession()
    session.set_dataset(load_dataset({"source": "scenes", "num_samples": 30, "seed": 0}))
    session.set_model(_square_finder())
    index = next(i for i in range(session.sample_count) if int(session.dataset.val_masks[i].max()) > 0)
    session.use_sample(index)
    assert session.analysis.mask is not None and (session.analysis.mask == 2).all()
    assert session.input.mask is not None and session.input.mask.max() > 0
    view = PredictionsView()
    qtbot.addWidget(view)
    view.resize(720, 420)
    view.show()
    view.show_prediction(session)
    assert "Pixels:" in view.summary.text() and "square 100%" in view.summary.text()
    predicted, truth = view.predicted.image(), view.truth.image()
    assert predicted is not None and truth is not None and view.truth.isVisible()
    tint = PALETTE[2].astype(int)  # square's colour dominates the prediction everywhere
    assert np.abs(predicted.reshape(-1, 3).mean(0) - tint).sum() < np.abs(truth.reshape(-1, 3).mean(0) - tint).sum()
    view.grab().save(str(tmp_path / "segmentation.png"))


def test_live_colours_the_pixels_of_the_region():
    from cnnstudio.ml.video.pipeline import LivePipeline
    from cnnstudio.ml.video.runners import TorchRunner

    model = _square_finder()
    pipeline = LivePipeline(TorchRunner(model.torch_model, model.meta, "segmenter"), roi=None, top_k=3, draw=True)
    frame = np.full((480, 640, 3), 90, np.uint8)
    result = pipeline.process(frame.copy())
    assert result.top[0][1] == "square"
    middle = result.image[200:280, 280:360].reshape(-1, 3).mean(0)
    assert not np.allclose(middle, 90, atol=5)  # tinted by the mask
