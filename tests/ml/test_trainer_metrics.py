"""Metrics against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnstudio.ml import metrics as M


def test_confusion_matrix_matches_sklearn():
    from sklearn.metrics import confusion_matrix

    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (200,), generator=g)
    p = torch.randint(0, 4, (200,), generator=g)
    ours = M.confusion_matrix(y, p, 4).numpy()
    np.testing.assert_array_equal(ours, confusion_matrix(y.numpy(), p.numpy(), labels=range(4)))
    assert M.accuracy_from_confusion(torch.from_numpy(ours)) == pytest.approx(M.accuracy(y, p))


def test_per_class_accuracy_and_empty_class():
    matrix = torch.tensor([[3, 1, 0], [0, 2, 2], [0, 0, 0]])
    assert M.per_class_accuracy(matrix) == [0.75, 0.5, None]
    assert M.accuracy(torch.tensor([]), torch.tensor([])) == 0.0


def test_box_iou_known_values():
    a = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.2, 0.2]])
    b = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.0, 0.5, 0.5], [0.5, 0.5, 0.2, 0.2]])
    np.testing.assert_allclose(M.box_iou(a, b).numpy(), [1.0, 1 / 3, 0.0], rtol=1e-6)


def test_giou_loss_matches_torchvision():
    from torchvision.ops import generalized_box_iou_loss

    g = torch.Generator().manual_seed(1)
    a = torch.rand(50, 4, generator=g) * 0.5
    b = torch.rand(50, 4, generator=g) * 0.5

    def xyxy(t):
        return torch.cat([t[:, :2], t[:, :2] + t[:, 2:]], dim=1)

    expected = generalized_box_iou_loss(xyxy(a), xyxy(b), reduction="none")
    torch.testing.assert_close(M.giou_loss(a, b, "none"), expected, rtol=1e-5, atol=1e-6)
    assert float(M.giou_loss(a, a)) == pytest.approx(0.0, abs=1e-6)


def test_project_training_defaults_match_the_trainer():
    from dataclasses import asdict

    from cnnstudio.core.project import default_training
    from cnnstudio.ml.trainer import TrainConfig

    trainer_defaults = asdict(TrainConfig())
    for key, value in default_training().items():
        assert trainer_defaults[key] == value, key


def test_the_train_control_and_events_import_without_torch():
    """The GUI thread creates a TrainControl and reads events; that must not load torch."""
    import subprocess
    import sys

    code = "import sys, cnnstudio.ml.train_events; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
