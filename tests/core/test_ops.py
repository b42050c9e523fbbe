"""The numpy reference ops pin the lecture's numbers (no torch here; see tests/ml for the comparison)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnstudio.core import ops
from cnnstudio.core.errors import UserError
from cnnstudio.core.exercises import grid_example

LECTURE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
LECTURE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
LECTURE_OUTPUT = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]


def test_lecture_convolution():
    np.testing.assert_array_equal(ops.conv2d(LECTURE_INPUT, LECTURE_KERNEL), LECTURE_OUTPUT)


def test_lecture_trace_first_window_and_order():
    trace = ops.conv_trace(LECTURE_INPUT, LECTURE_KERNEL)
    assert trace.num_steps == 9
    first = trace.step(0)
    assert (first.rows, first.cols) == ((0, 1, 2), (0, 1, 2))
    np.testing.assert_array_equal(first.products[0], [[0, 3, 4], [0, 0, 0], [0, 1, 4]])
    assert first.equation(0) == "3·0 + 3·1 + 2·2 + 0·2 + 0·2 + 1·0 + 3·0 + 1·1 + 2·2 = 12"
    # row-major order, as in the lecture's animation
    assert [(s.out_row, s.out_col, s.total) for s in trace.steps][:4] == [(0, 0, 12), (0, 1, 12), (0, 2, 17), (1, 0, 10)]
    last = trace.step(8)
    assert (last.rows, last.cols, last.total) == ((2, 3, 4), (2, 3, 4), 14)
    with pytest.raises(IndexError):
        trace.step(9)


def test_lecture_colour_example_top_left_is_minus_25():
    example = grid_example("lecture-colour")
    trace = example.conv_trace()
    step = trace.step(0)
    assert step.channel_sums == (308, -498, 164)
    assert step.bias == 1
    assert step.total == -25 == trace.output[0, 0]
    assert step.total_equation() == "308 + (−498) + 164 + 1 = −25"
    assert trace.output.shape == (5, 5)
    # the window is the padded top-left corner: one ring of zeros, then the lecture's pixels
    np.testing.assert_array_equal(step.window[0], [[0, 0, 0], [0, 156, 155], [0, 153, 154]])


def test_slido_exercise_padding_and_stride():
    image = np.arange(1, 17).reshape(4, 4)
    out = ops.conv2d(image, [[1, 1], [0, 2]], stride=2, padding=1)
    np.testing.assert_array_equal(out, [[2, 6, 0], [23, 35, 8], [13, 29, 16]])


def test_conv_then_pool_size_10x10():
    c = ops.conv_output_size(10, 5, 1)
    assert c == 6
    assert ops.conv_output_size(c, 2, 2) == 3
    x = np.random.default_rng(0).random((10, 10))
    assert ops.pool2d(ops.conv2d(x, np.ones((5, 5))), 2).shape == (3, 3)


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "d", "expected"),
    [(5, 3, 1, 0, 1, 3), (5, 3, 2, 1, 1, 3), (4, 2, 2, 1, 1, 3), (1920, 3, 1, 1, 1, 1920), (28, 5, 1, 2, 1, 28),
     (7, 3, 2, 0, 1, 3), (8, 3, 3, 0, 1, 2), (9, 3, 1, 0, 2, 5), (6, 6, 1, 0, 1, 1), (32, 3, 2, 1, 1, 16)],
)
def test_conv_output_size_table(n, k, s, p, d, expected):
    assert ops.conv_output_size(n, k, s, p, d) == expected


def test_output_formula_text():
    assert ops.conv_output_formula(1920, 3, 1, 1) == "(1920 + 2·1 − 3) / 1 + 1 = 1920"
    assert ops.conv_output_formula(8, 3, 3) == "⌊(8 + 2·0 − 3) / 3⌋ + 1 = 2"
    assert ops.conv_output_formula(9, 3, 1, 0, 2) == "(9 + 2·0 − (2·(3 − 1) + 1)) / 1 + 1 = 5"


@pytest.mark.parametrize(
    ("args", "message"),
    [((3, 5), "larger than the padded input"), ((5, 3, 0), "stride must be"), ((5, 3, 1, -1), "padding must be"),
     ((5, 3, 1, 0, 3), "dilation 3")],
)
def test_conv_output_size_errors(args, message):
    with pytest.raises(UserError, match=message):
        ops.conv_output_size(*args)


def test_pad_modes():
    x = np.array([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(ops.pad2d(x, 1, "constant", 9)[0], [9, 9, 9, 9, 9])
    np.testing.assert_array_equal(ops.pad2d(x, (0, 1), "reflect"), [[2, 1, 2, 3, 2], [5, 4, 5, 6, 5]])
    np.testing.assert_array_equal(ops.pad2d(x, (0, 1), "replicate"), [[1, 1, 2, 3, 3], [4, 4, 5, 6, 6]])
    np.testing.assert_array_equal(ops.pad2d(x, (0, 1), "circular"), [[3, 1, 2, 3, 1], [6, 4, 5, 6, 4]])
    with pytest.raises(UserError, match="Reflect padding"):
        ops.pad2d(x, 2, "reflect")
    with pytest.raises(UserError, match="Unknown padding mode"):
        ops.pad2d(x, 1, "mirror")


def test_conv_pad_value_stride_dilation_pairs():
    x = np.arange(30, dtype=float).reshape(5, 6)
    out = ops.conv2d(x, np.ones((1, 1)), padding=1, pad_value=-1)
    assert out[0, 0] == -1 and out[1, 1] == 0
    out = ops.conv2d(x, [[1, 0, -1]], stride=(1, 2), dilation=(1, 2))
    assert out.shape == (5, 1)
    assert out[0, 0] == x[0, 0] - x[0, 4]


def test_conv_bad_input():
    with pytest.raises(UserError, match="channel"):
        ops.conv2d(np.zeros((3, 4, 4)), np.zeros((2, 3, 3)))
    with pytest.raises(UserError, match="not finite"):
        ops.conv2d([[np.nan, 1], [1, 1]], [[1]])
    with pytest.raises(UserError, match="whole number"):
        ops.conv2d(np.zeros((4, 4)), np.zeros((3, 3)), stride=1.5)
    with pytest.raises(UserError, match="pair"):
        ops.conv2d(np.zeros((4, 4)), np.zeros((3, 3)), padding=(1, 1, 1))


def test_pool_modes_on_lecture_style_grid():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], float)
    np.testing.assert_array_equal(ops.pool2d(x, 2, mode="max"), [[6, 8], [3, 4]])
    np.testing.assert_array_equal(ops.pool2d(x, 2, mode="min"), [[1, 2], [1, 0]])
    np.testing.assert_array_equal(ops.pool2d(x, 2, mode="avg"), [[3.25, 5.25], [2, 2]])
    np.testing.assert_array_equal(ops.pool2d(x, 2, mode="median"), [[3, 5.5], [2, 2]])
    assert ops.pool2d(x, 3, stride=1).shape == (2, 2)
    assert ops.pool2d(np.stack([x, -x]), 2).shape == (2, 2, 2)


def test_pool_padding_and_trace():
    x = np.array([[1, 2], [3, 4]], float)
    np.testing.assert_array_equal(ops.pool2d(x, 2, 1, "max", padding=1), [[1, 2, 2], [3, 4, 4], [3, 4, 4]])
    np.testing.assert_array_equal(ops.pool2d(x, 2, 1, "avg", padding=1)[0], [0.25, 0.75, 0.5])
    trace = ops.pool_trace(x, 2, 1, "max", padding=1)
    step = trace.step(4)
    assert step.value == 4 and step.picked == (2, 2)
    assert step.equation("max") == "max(1, 2, 3, 4) = 4"
    assert trace.step(0).equation("max") == "max(1) = 1"
    with pytest.raises(UserError, match="at most half"):
        ops.pool2d(x, 2, padding=2)
    with pytest.raises(UserError, match="Unknown pooling mode"):
        ops.pool2d(x, 2, mode="sum")


def test_format_number():
    assert ops.format_number(12.0) == "12"
    assert ops.format_number(-3) == "−3"
    assert ops.format_number(1 / 3) == "0.333"
    assert ops.format_number(-0.0001) == "0"


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 9), w=st.integers(1, 9), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
    d=st.integers(1, 2), mode=st.sampled_from(ops.PAD_MODES), seed=st.integers(0, 10_000),
)
def test_conv_shape_trace_and_linearity_properties(h, w, k, s, p, d, mode, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, h, w))
    kern = rng.normal(size=(2, k, k))
    span = d * (k - 1) + 1
    too_wide = (mode == "reflect" and p >= min(h, w)) or (mode == "circular" and p > min(h, w))
    if span > h + 2 * p or span > w + 2 * p or too_wide:
        with pytest.raises(UserError):
            ops.conv2d(x, kern, stride=s, padding=p, pad_mode=mode, dilation=d)
        return
    out = ops.conv2d(x, kern, 0.5, s, p, mode, 0.0, d)
    assert out.shape == (ops.conv_output_size(h, k, s, p, d), ops.conv_output_size(w, k, s, p, d))
    # the trace's per-position sums add up to the same output
    trace = ops.conv_trace(x, kern, 0.5, s, p, mode, 0.0, d)
    for step in trace.steps:
        assert sum(step.channel_sums) + 0.5 == pytest.approx(out[step.out_row, step.out_col])
    # convolution is linear in the input (bias aside)
    y = rng.normal(size=x.shape)
    lhs = ops.conv2d(x + 2 * y, kern, 0, s, p, mode, 0.0, d)
    rhs = ops.conv2d(x, kern, 0, s, p, mode, 0.0, d) + 2 * ops.conv2d(y, kern, 0, s, p, mode, 0.0, d)
    np.testing.assert_allclose(lhs, rhs, atol=1e-9)
