"""The image path (OpenCV) gives the same numbers as the numpy reference op, for every option."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cnnstudio.core import ops
from cnnstudio.core.errors import UserError
from cnnstudio.gui.workspaces.playground.image_filter import (
    dilated_kernel,
    display_image,
    diverging_bound,
    filter_channel_mean,
    filter_image,
    select_channels,
)

RNG = np.random.default_rng(7)
IMAGE = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("ksize", "stride", "padding", "mode", "pad_value", "dilation"),
    list(itertools.product([(3, 3), (2, 4), (1, 1)], [1, 2, (1, 3)], [0, 1, (2, 3)],
                           ["constant", "reflect", "replicate", "circular"], [0.0, 300.0], [1, 2]))[::3],
)
def test_filter_image_matches_reference(ksize, stride, padding, mode, pad_value, dilation):
    kernel = RNG.normal(size=ksize)
    ours = filter_image(IMAGE, kernel, stride, padding, mode, pad_value, dilation)
    clipped = filter_image(IMAGE, kernel * 60, stride, padding, mode, pad_value, dilation, clipped=True)
    assert clipped.dtype == np.uint8
    for c in range(3):
        ref = ops.conv2d(IMAGE[..., c], kernel, 0, stride, padding, mode, pad_value, dilation)
        np.testing.assert_allclose(ours[..., c], ref, atol=2e-3, rtol=1e-5)
        ref_clipped = np.clip(np.rint(ref * 60), 0, 255)
        assert np.abs(clipped[..., c].astype(int) - ref_clipped).max() <= 1


@pytest.mark.parametrize(("mode", "pad_value"), [("constant", 0.0), ("constant", 7.0), ("constant", 2.5),
                                                 ("reflect", 0.0), ("circular", 0.0)])
def test_channel_mean_path_matches_mean_of_channels(mode, pad_value):
    kernel = RNG.normal(size=(3, 3))
    ours = filter_channel_mean(IMAGE, kernel, 2, 1, mode, pad_value, 1)
    ref = np.mean([ops.conv2d(IMAGE[..., c], kernel, 0, 2, 1, mode, pad_value) for c in range(3)], axis=0)
    np.testing.assert_allclose(ours, ref, atol=2e-3, rtol=1e-5)
    gray = IMAGE[..., 0]
    np.testing.assert_allclose(filter_channel_mean(gray, kernel), ops.conv2d(gray, kernel), atol=2e-3)


def test_gray_and_single_channel():
    gray = select_channels(IMAGE, "gray")
    assert gray.shape == (13, 17) and gray.dtype == np.uint8
    assert abs(int(gray[0, 0]) - round(0.299 * IMAGE[0, 0, 0] + 0.587 * IMAGE[0, 0, 1] + 0.114 * IMAGE[0, 0, 2])) <= 1
    np.testing.assert_array_equal(select_channels(IMAGE, "blue"), IMAGE[..., 2])
    out = filter_image(gray, np.ones((3, 3)), padding=1, pad_mode="replicate")
    np.testing.assert_allclose(out, ops.conv2d(gray, np.ones((3, 3)), padding=1, pad_mode="replicate"), atol=1e-3)


def test_display_modes():
    raw = np.array([[-300, -1], [100, 400]], np.float32)
    clipped, levels = display_image(raw, "clipped")
    assert clipped.tolist() == [[0, 0], [100, 255]] and levels == (0, 255)
    absolute, _ = display_image(raw, "absolute")
    assert absolute.tolist() == [[255, 1], [100, 255]]
    single, (low, high) = display_image(np.stack([raw, raw * 0], -1), "diverging")
    assert single.shape == (2, 2) and single.dtype == np.uint8 and low == -high and high > 0
    assert single[0, 1] == round(-0.5 * 127.5 / high + 127.5)  # the mean of −1 and 0, around the middle
    assert single[1, 1] == 255  # the mean 200 is at (or beyond) the saturation bound
    assert diverging_bound(np.zeros((4, 4), np.float32)) > 0
    with pytest.raises(UserError):
        display_image(raw, "rainbow")


def test_dilated_kernel_and_errors():
    np.testing.assert_array_equal(dilated_kernel(np.array([[1, 2]], float), (1, 3)), [[1, 0, 0, 2]])
    with pytest.raises(UserError, match="larger than the padded input"):
        filter_image(IMAGE, np.ones((3, 3)), dilation=9)
    with pytest.raises(UserError, match="Reflect padding"):
        filter_image(IMAGE, np.ones((3, 3)), padding=13, pad_mode="reflect")
    with pytest.raises(UserError, match="Unknown padding mode"):
        filter_image(IMAGE, np.ones((3, 3)), pad_mode="zeros")
