"""Built-in datasets, the split, DatasetBundle.fit_to and class_counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets import DatasetBundle, LoadProgress, load_dataset
from cnnstudio.ml.datasets.shapes import SHAPES_CLASSES, _masks, generate_shapes
from cnnstudio.ml.datasets.split import stratified_split


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"source": "digits"})


def test_digits_counts_shape_and_range(digits):
    assert len(digits) == 1797
    assert digits.classes == [str(i) for i in range(10)]
    assert digits.task == "classification" and digits.train_boxes is None and digits.val_boxes is None
    assert digits.train_x.shape[1:] == (1, 28, 28) and digits.train_x.dtype == torch.float32
    assert digits.train_y.dtype == torch.int64
    assert len(digits.val_x) == pytest.approx(1797 * 0.2, abs=10)
    assert 0.0 <= float(digits.train_x.min()) and float(digits.train_x.max()) <= 1.0
    # light ink on dark: most pixels are dark paper and the ink reaches near white
    assert float(digits.train_x.mean()) < 0.35 and float(digits.train_x[:, :, 0, 0].mean()) < 0.05
    assert float(digits.train_x.amax(dim=(1, 2, 3)).mean()) > 0.8
    counts = digits.class_counts()
    assert sum(counts.values()) == 1797 and min(counts.values()) >= 170
    assert sum(digits.class_counts("val").values()) == len(digits.val_y)


def test_digits_split_is_seeded_and_stratified(digits):
    again = load_dataset({"source": "digits", "seed": 0})
    assert torch.equal(again.val_y, digits.val_y) and torch.equal(again.val_x, digits.val_x)
    other = load_dataset({"source": "digits", "seed": 1, "val_fraction": 0.3})
    assert not torch.equal(other.val_y[:50], digits.val_y[:50])
    assert len(other.val_y) == pytest.approx(1797 * 0.3, abs=10)
    for name, count in other.class_counts("val").items():
        assert abs(count - 0.3 * other.class_counts()[name]) <= 1


def test_split_disjoint_complete_and_keeps_one_each_side():
    labels = np.array([0] * 10 + [1] * 2 + [2] * 1)
    train, val = stratified_split(labels, 0.2, seed=3)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(13))
    assert (labels[val] == 1).sum() == 1 and (labels[train] == 1).sum() == 1
    assert (labels[val] == 2).sum() == 0
    again = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], val)


def test_progress_events_reach_the_callback():
    events = []
    load_dataset({"source": "shapes", "num_samples": 60}, progress=events.append)
    assert events and all(isinstance(e, LoadProgress) for e in events)


def test_shapes_bundle():
    bundle = load_dataset({"source": "shapes", "num_samples": 250, "image_size": 48, "seed": 5})
    assert bundle.task == "localization" and bundle.classes == ["circle", "square", "triangle", "star", "cross"]
    assert bundle.train_x.shape[1:] == (3, 48, 48) and len(bundle) == 250
    assert bundle.train_boxes.shape == (len(bundle.train_x), 4) and bundle.train_boxes.dtype == torch.float32
    assert set(bundle.class_counts().values()) == {50}
    boxes = torch.cat([bundle.train_boxes, bundle.val_boxes])
    assert float(boxes.min()) >= 0.0 and float((boxes[:, 0] + boxes[:, 2]).max()) <= 1.0
    assert float(boxes[:, 2:].min()) >= 0.15  # every shape spans at least 15% of the image
    again = load_dataset({"source": "shapes", "num_samples": 250, "image_size": 48, "seed": 5})
    assert torch.equal(again.train_x, bundle.train_x) and torch.equal(again.train_boxes, bundle.train_boxes)


def test_shape_pixels_lie_inside_their_box():
    n, size = 200, 64
    images, labels, boxes = generate_shapes(n, size, seed=11, noise=0.0)
    # regenerate the masks from the same seeded parameters: pixels that differ from the corner colour
    for i in range(n):
        img = images[i]
        background = img[:, 0, 0][:, None, None]
        shape_pixels = np.abs(img - background).max(axis=0) > 0.05
        ys, xs = np.nonzero(shape_pixels)
        x, y, w, h = boxes[i] * size
        assert xs.min() >= x - 1e-4 and xs.max() + 1 <= x + w + 1e-4
        assert ys.min() >= y - 1e-4 and ys.max() + 1 <= y + h + 1e-4
        # and the box is tight: the shape touches all four sides
        assert xs.min() == round(x) and ys.min() == round(y)
        assert xs.max() + 1 == round(x + w) and ys.max() + 1 == round(y + h)
    assert set(labels.tolist()) == set(range(len(SHAPES_CLASSES)))


def test_shapes_are_distinct_silhouettes():
    """Same centre and size, the five masks differ clearly from each other (classes are learnable)."""
    kinds = np.arange(5)
    masks = _masks(kinds, np.full(5, 32.0, np.float32), np.full(5, 32.0, np.float32), np.full(5, 14.0, np.float32), 64)
    for a in range(5):
        for b in range(a + 1, 5):
            iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
            assert iou < 0.85, (a, b, iou)


def _bundle(c, h, w, task="classification"):
    boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4]]) if task == "localization" else None
    return DatasetBundle(
        train_x=torch.rand(1, c, h, w), train_y=torch.zeros(1, dtype=torch.int64),
        val_x=torch.rand(1, c, h, w), val_y=torch.ones(1, dtype=torch.int64),
        classes=["a", "b"], task=task, train_boxes=boxes, val_boxes=boxes,
    )


def test_fit_to_converts_channels_and_size_and_keeps_boxes():
    gray = _bundle(1, 8, 8)
    rgb = gray.fit_to(3, 16, 12)
    assert rgb.train_x.shape == (1, 3, 16, 12) and rgb.val_x.shape == (1, 3, 16, 12)
    assert torch.equal(rgb.train_x[:, 0], rgb.train_x[:, 1])
    back = _bundle(3, 8, 8)
    back.train_x[:] = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    g = back.fit_to(1, 8, 8)
    assert g.train_x.shape == (1, 1, 8, 8) and torch.allclose(g.train_x, torch.full((1, 1, 8, 8), 0.299))
    loc = _bundle(3, 64, 64, "localization").fit_to(1, 32, 32)
    assert torch.equal(loc.train_boxes, torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    same = _bundle(1, 8, 8)
    assert same.fit_to(1, 8, 8) is same
    with pytest.raises(UserError, match="channels"):
        gray.fit_to(2, 8, 8)


def test_fit_to_real_digits_for_an_rgb_network(digits):
    fitted = digits.fit_to(3, 32, 32)
    assert fitted.train_x.shape == (len(digits.train_x), 3, 32, 32)
    assert float(fitted.train_x.max()) <= 1.0 and float(fitted.train_x.min()) >= 0.0
    assert fitted.classes == digits.classes and torch.equal(fitted.train_y, digits.train_y)


def test_bundle_rejects_inconsistent_tensors():
    with pytest.raises(ValueError):
        DatasetBundle(train_x=torch.rand(2, 1, 4, 4), train_y=torch.zeros(3, dtype=torch.int64),
                      val_x=torch.rand(1, 1, 4, 4), val_y=torch.zeros(1, dtype=torch.int64), classes=["a"])


@pytest.mark.parametrize("config, message", [
    ({"source": "nope"}, "Unknown data source"),
    ({"source": "digits", "val_fraction": 0.95}, "between"),
    ({"source": "shapes", "num_samples": "many"}, "must be a number"),
    ({"source": "folder"}, "Choose a folder"),
    ({"source": "digits", "augment": {"zoom": 1}}, "Unknown augmentation"),
])
def test_bad_configs_give_one_clear_sentence(config, message):
    with pytest.raises(UserError, match=message):
        load_dataset(config)
