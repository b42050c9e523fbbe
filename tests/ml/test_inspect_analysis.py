"""Saliency on a known case, neighbour search, 2-D maps, mistakes and kernels (issue 7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnstudio.core.errors import UserError
from cnnstudio.ml.inspect.embeddings import NeighbourIndex, project_2d, torch_embeddings
from cnnstudio.ml.inspect.kernels import KernelSnapshot, kernel_change, render_kernels, torch_conv_weights
from cnnstudio.ml.inspect.mistakes import confident_mistakes, sort_mistakes
from cnnstudio.ml.inspect.saliency import grad_cam, gradient_saliency


class Mask(nn.Module):
    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, x):
        return x * self.mask


class QuadrantNet(nn.Module):
    """Class 0's logit reads only the top-left quadrant of a 16x16 image (class 1 is its negative)."""

    def __init__(self) -> None:
        super().__init__()
        mask = torch.zeros(1, 1, 16, 16)
        mask[..., :8, :8] = 1
        conv = nn.Conv2d(1, 3, 3, padding=1, bias=False)
        fc = nn.Linear(3, 2)
        with torch.no_grad():
            conv.weight.copy_(torch.rand_like(conv.weight) + 0.1)
            fc.weight.copy_(torch.tensor([[1.0, 0.5, 2.0], [-1.0, -0.5, -2.0]]))
            fc.bias.zero_()
        self.layers = nn.ModuleDict(
            {"mask": Mask(mask), "c1": conv, "a1": nn.ReLU(), "gap": nn.AdaptiveAvgPool2d(1), "flat": nn.Flatten(), "out": fc}
        )

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


@pytest.fixture(scope="module")
def quadrant():
    torch.manual_seed(0)
    return QuadrantNet().eval()


def _image():
    return torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(1)) + 0.05


def test_gradient_saliency_is_zero_outside_the_quadrant_the_logit_reads(quadrant):
    result = gradient_saliency(quadrant, _image(), target=0)
    heat = result.heat
    assert heat.shape == (16, 16) and result.target == 0
    assert heat.max() == pytest.approx(1.0)
    assert np.all(heat[8:, :] == 0) and np.all(heat[:, 8:] == 0)
    assert np.all(heat[:8, :8] > 0)


def test_grad_cam_concentrates_on_the_quadrant(quadrant):
    result = grad_cam(quadrant, _image(), target=0)
    assert result.layer == "a1"  # the last spatial, non-pooling layer
    heat = result.heat
    assert heat.shape == (16, 16) and heat.max() == pytest.approx(1.0)
    inside = heat[:8, :8].sum()
    assert inside / heat.sum() > 0.9
    assert heat[12:, 12:].max() == 0  # far from the quadrant nothing lights up
    # the predicted class is explained by default
    assert grad_cam(quadrant, _image()).target == 0
    # for class 1 (negative weights) the positive evidence vanishes: ReLU leaves an empty map
    assert grad_cam(quadrant, _image(), target=1).heat.max() == 0


def test_saliency_errors_are_clear(quadrant):
    with pytest.raises(UserError, match="Class 5 does not exist"):
        gradient_saliency(quadrant, _image(), target=5)
    with pytest.raises(UserError, match="no layer named"):
        grad_cam(quadrant, _image(), layer="zz")
    with pytest.raises(UserError, match="spatial"):
        grad_cam(quadrant, _image(), layer="flat")


def test_nearest_neighbour_of_a_member_is_itself_at_distance_zero():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 8)).astype(np.float32)
    index = NeighbourIndex(emb)
    for i in (0, 17, 49):
        found = index.query(emb[i], k=5)
        assert found.indices[0] == i and found.distances[0] == pytest.approx(0.0, abs=1e-5)
        assert np.all(np.diff(found.distances) >= 0)
        brute = np.argsort(np.linalg.norm(emb - emb[i], axis=1))[:5]
        assert list(found.indices) == list(brute)
        others = index.query(emb[i], k=3, exclude=i)
        assert i not in others.indices and len(others.indices) == 3
        assert list(others.indices) == list(brute[1:4])
    assert len(index.query(emb[0], k=500).indices) == 50
    with pytest.raises(UserError, match="cannot be compared"):
        index.query(np.zeros(3), k=1)
    with pytest.raises(UserError):
        NeighbourIndex(np.zeros((0, 4)))


def test_torch_embeddings_are_the_last_linear_layers_input(quadrant):
    x = torch.rand(4, 1, 16, 16)
    emb = torch_embeddings(quadrant, x)
    with torch.no_grad():
        ref = quadrant.layers["flat"](quadrant.layers["gap"](quadrant.layers["a1"](quadrant.layers["c1"](quadrant.layers["mask"](x)))))
    np.testing.assert_allclose(emb, ref.numpy(), atol=1e-6)


def test_project_2d_pca_keeps_the_main_direction():
    rng = np.random.default_rng(0)
    t = rng.normal(size=60)
    emb = np.stack([t * 10, t * -5, rng.normal(size=60) * 0.1, np.zeros(60)], axis=1)
    xy = project_2d(emb)
    assert xy.shape == (60, 2)
    assert abs(np.corrcoef(xy[:, 0], t)[0, 1]) > 0.99
    with pytest.raises(UserError, match="method"):
        project_2d(emb, "umap")
    with pytest.raises(UserError):
        project_2d(emb[:1])


def test_confident_mistakes_are_sorted_and_exclude_correct_ones():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.99, 0.01]], np.float32)
    labels = np.array([0, 0, 0, 1, 1])
    found = confident_mistakes(probs, labels)
    assert [m.index for m in found] == [4, 1, 2, 3]
    assert found[0].predicted == 0 and found[0].true == 1 and found[0].confidence == pytest.approx(0.99)
    assert found[0].true_probability == pytest.approx(0.01)
    assert [m.index for m in confident_mistakes(probs, labels, limit=2)] == [4, 1]
    assert [m.index for m in sort_mistakes(found, "confidence", descending=False)] == [3, 2, 1, 4]
    assert confident_mistakes(probs[:1], labels[:1]) == []


def test_kernels_render_rgb_for_three_input_channels():
    conv = nn.Conv2d(3, 4, 3)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = 1.0  # filter 0 is pure red
        conv.weight[1, 2] = 1.0  # filter 1 is pure blue
    model = nn.Module()
    model.layers = nn.ModuleDict({"c1": conv, "a1": nn.ReLU()})
    weights = torch_conv_weights(model)
    assert list(weights) == ["c1"] and weights["c1"].shape == (4, 3, 3, 3)
    image, layout = render_kernels(weights["c1"])
    assert len(layout.rects) == 4
    x, y, w, h = layout.rects[0]
    assert tuple(image[y + h // 2, x + w // 2]) == (255, 0, 0)
    x, y, w, h = layout.rects[1]
    assert tuple(image[y + h // 2, x + w // 2]) == (0, 0, 255)
    gray, gray_layout = render_kernels(np.random.default_rng(0).normal(size=(6, 2, 5, 5)))
    assert len(gray_layout.rects) == 12 and gray.dtype == np.uint8
    with pytest.raises(UserError):
        render_kernels(np.zeros((3, 3)))


def test_kernel_change_between_checkpoints():
    a = np.ones((2, 1, 3, 3), np.float32)
    snaps = [KernelSnapshot(1, None, {"c1": a}), KernelSnapshot(2, None, {"c1": a * 1.5}), KernelSnapshot(3, None, {})]
    change = kernel_change(snaps, "c1")
    assert change[0] == 0.0 and change[1] == pytest.approx(0.5) and np.isnan(change[2])


def test_a_new_dataset_replaces_the_sample_shown_as_input():
    """Switching to a run trained on other data: the input sample comes from the new set, not the old one."""
    from cnnstudio.ml.datasets import load_dataset
    from cnnstudio.ml.inspect.models import from_spec
    from cnnstudio.ml.inspect.session import InspectSession

    session = InspectSession()
    session.set_model(from_spec("shapes-localizer"))
    session.set_dataset(load_dataset({"source": "digits", "seed": 0}))
    session.use_sample(3)
    assert session.input.box is None and "class" in session.input.title
    session.set_dataset(load_dataset({"source": "shapes", "num_samples": 60, "seed": 0}))
    assert session.input.sample == 3 and session.input.box is not None
    assert session.input.display.shape == (64, 64, 3)
    assert session.input.title.endswith(f"(class {session.dataset.classes[session.input.label]})")


def test_network_view_shows_a_dropped_paper_digit_inverted_as_the_model_sees_it():
    from cnnstudio.core.model_meta import ModelMeta, Preprocess
    from cnnstudio.ml.inspect.session import network_view
    from cnnstudio.ml.preprocess import to_model_input

    paper = np.full((60, 40, 3), 250, np.uint8)
    paper[10:50, 18:22] = 10  # a dark "1" on white paper
    meta = ModelMeta(input_shape=(1, 28, 28), class_names=[str(i) for i in range(10)],
                     preprocess=Preprocess(mean=(0.5,), std=(0.5,), polarity="invert", ink="light"))
    view = network_view(to_model_input(paper, meta), meta.preprocess.mean, meta.preprocess.std)
    assert view.shape == (28, 28) and view.dtype == np.uint8
    assert view[0, 0] < 20 and view[14, 14] > 220  # paper dark, ink bright: the inversion applied
    plain = Preprocess(mean=(0.5,), std=(0.5,), polarity="keep")
    meta_plain = ModelMeta(input_shape=(1, 28, 28), class_names=meta.class_names, preprocess=plain)
    assert network_view(to_model_input(paper, meta_plain), 0.5, 0.5)[0, 0] > 230
