"""Augmentation: boxes follow the image content; settings validated; v2 pipeline agrees on flips."""

from __future__ import annotations

import pytest
import torch

from cnnstudio.core.errors import UserError
from cnnstudio.ml.augment import build_augment, preview_augment, v2_transform


def _box_image(n=1, size=32, box=(4, 6, 10, 8), channels=3):
    """Images with one white rectangle at pixel box (x, y, w, h) and its normalised box."""
    x, y, w, h = box
    images = torch.zeros(n, channels, size, size)
    images[:, :, y:y + h, x:x + w] = 1.0
    return images, torch.tensor([[x / size, y / size, w / size, h / size]]).repeat(n, 1)


def _pixel_box(image, threshold=0.5):
    ys, xs = torch.nonzero(image.amax(dim=0) > threshold, as_tuple=True)
    size = image.shape[-1]
    return torch.tensor([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]) / size


def test_nothing_enabled_returns_the_same_tensors():
    images, boxes = _box_image()
    aug = build_augment({})
    assert not aug.active
    out, out_boxes = aug(images, boxes)
    assert out is images and out_boxes is boxes


def test_horizontal_flip_moves_a_known_box():
    images, boxes = _box_image()
    out, out_boxes = build_augment({"flip": 1.0}, "localization")(images, boxes)
    expected = torch.tensor([[1 - (4 + 10) / 32, 6 / 32, 10 / 32, 8 / 32]])
    assert torch.allclose(out_boxes, expected, atol=1e-5)
    assert torch.allclose(out[0], images[0].flip(-1), atol=1e-5)
    assert torch.allclose(_pixel_box(out[0]), expected[0], atol=1e-5)


def test_vertical_flip_moves_a_known_box():
    images, boxes = _box_image()
    out, out_boxes = build_augment({"vflip": 1.0}, "localization")(images, boxes)
    assert torch.allclose(out_boxes, torch.tensor([[4 / 32, 1 - 14 / 32, 10 / 32, 8 / 32]]), atol=1e-5)
    assert torch.allclose(out[0], images[0].flip(-2), atol=1e-5)


def test_random_geometry_keeps_boxes_on_the_content():
    images, boxes = _box_image(n=16, size=64, box=(20, 24, 16, 12))
    settings = {"shift": 0.1, "rotation": 20, "scale": 0.15, "flip": 0.5}
    gen = torch.Generator().manual_seed(3)
    out, out_boxes = build_augment(settings, "localization")(images, boxes, gen)
    assert not torch.allclose(out_boxes[0], out_boxes[1])  # every image gets its own parameters
    for i in range(16):
        drawn = _pixel_box(out[i], threshold=0.5)
        # the rotated rectangle's pixels lie inside the enclosing box (within a pixel of resampling)
        x, y, w, h = out_boxes[i].tolist()
        assert drawn[0] >= x - 1.5 / 64 and drawn[1] >= y - 1.5 / 64
        assert drawn[0] + drawn[2] <= x + w + 1.5 / 64 and drawn[1] + drawn[3] <= y + h + 1.5 / 64
        # and the box is not much bigger than the content either
        assert w * h <= 2.2 * float(drawn[2] * drawn[3])


def test_non_square_images_rotate_in_pixel_space():
    images = torch.zeros(1, 1, 20, 40)
    images[0, 0, 8:12, 18:22] = 1.0  # a 4x4 square at the centre
    aug = build_augment({"rotation": 90})
    forward = aug.forward_matrices(images, torch.Generator().manual_seed(0))
    boxes = torch.tensor([[18 / 40, 8 / 20, 4 / 40, 4 / 20]])
    from cnnstudio.ml.augment import transform_boxes

    out = transform_boxes(boxes, forward)
    # a square stays a square in pixels whatever the angle: w*40 == h*20 within rounding of the corners
    assert abs(float(out[0, 2] * 40 - out[0, 3] * 20)) < 1e-3


def test_colour_and_noise_stay_in_range_and_change_pixels():
    images = torch.rand(8, 3, 16, 16)
    settings = {"brightness": 0.5, "contrast": 0.5, "saturation": 0.5, "hue": 0.2, "noise": 0.1}
    out, boxes = build_augment(settings)(images, None, torch.Generator().manual_seed(0))
    assert boxes is None and out.shape == images.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float((out - images).abs().mean()) > 0.02
    gray = torch.rand(4, 1, 16, 16)
    out_gray, _ = build_augment(settings)(gray)
    assert out_gray.shape == gray.shape


def test_hue_rotation_keeps_gray_pixels_gray():
    images = torch.full((2, 3, 4, 4), 0.5)
    out, _ = build_augment({"hue": 0.5})(images)
    assert torch.allclose(out, images, atol=1e-5)


def test_preview_is_reproducible_per_seed():
    images, boxes = _box_image(n=4)
    a = preview_augment(images, boxes, {"rotation": 30, "noise": 0.05}, seed=1, task="localization")
    b = preview_augment(images, boxes, {"rotation": 30, "noise": 0.05}, seed=1, task="localization")
    c = preview_augment(images, boxes, {"rotation": 30, "noise": 0.05}, seed=2, task="localization")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="between"):
        build_augment({"rotation": 400})
    with pytest.raises(UserError, match="Unknown augmentation"):
        build_augment({"blur": 1})


def test_v2_pipeline_flips_boxes_like_the_batch_augment():
    from torchvision import tv_tensors

    images, boxes = _box_image()
    transform = v2_transform({"flip": 1.0}, "localization")
    pixel_boxes = tv_tensors.BoundingBoxes(boxes * 32, format="XYWH", canvas_size=(32, 32))
    out_image, out_boxes = transform(images[0], pixel_boxes)
    batch_image, batch_boxes = build_augment({"flip": 1.0}, "localization")(images, boxes)
    assert torch.allclose(out_boxes.as_subclass(torch.Tensor) / 32, batch_boxes, atol=1e-5)
    assert torch.allclose(out_image, batch_image[0], atol=1e-5)


def test_v2_pipeline_with_every_setting_runs_on_an_image_with_a_box():
    from torchvision import tv_tensors

    every = {"shift": 0.1, "rotation": 10, "scale": 0.1, "flip": 0.5, "vflip": 0.2, "noise": 0.05,
             "brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.1}
    torch.manual_seed(0)
    image = torch.rand(3, 32, 32)
    box = tv_tensors.BoundingBoxes(torch.tensor([[4.0, 6.0, 10.0, 8.0]]), format="XYWH", canvas_size=(32, 32))
    out, out_box = v2_transform(every, "localization")(image, box)
    assert out.shape == image.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    x, y, w, h = out_box[0].tolist()
    assert x >= 0 and y >= 0 and x + w <= 32 + 1e-4 and y + h <= 32 + 1e-4 and w > 0 and h > 0
