"""The numpy reference ops in cnnstudio.core.ops against torch.nn.functional, option by option."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnstudio.core import ops

RNG = np.random.default_rng(1234)


def _torch_conv(x, k, bias, stride, padding, mode, value, dilation):
    xt = torch.from_numpy(x)[None]  # (1, C, H, W)
    kt = torch.from_numpy(k)[None]  # (1, C, kh, kw)
    ph, pw = ops.as_pair(padding, "padding")
    if ph or pw:
        xt = F.pad(xt, (pw, pw, ph, ph), mode=mode, value=value) if mode == "constant" else F.pad(
            xt, (pw, pw, ph, ph), mode=mode)
    bt = torch.tensor([bias], dtype=torch.float64)
    return F.conv2d(xt, kt, bt, stride=stride, dilation=dilation)[0, 0].numpy()


CASES = list(itertools.product(
    [1, 3],  # channels
    [(3, 3), (2, 3)],  # kernel
    [1, 2, (2, 1)],  # stride
    [0, 1, (2, 1)],  # padding
    ["constant", "reflect", "replicate", "circular"],
    [1, 2],  # dilation
))


@pytest.mark.parametrize(("channels", "ksize", "stride", "padding", "mode", "dilation"), CASES)
def test_conv2d_matches_torch(channels, ksize, stride, padding, mode, dilation):
    x = RNG.normal(size=(channels, 9, 11))
    k = RNG.normal(size=(channels, *ksize))
    bias = float(RNG.normal())
    value = 0.5 if mode == "constant" else 0.0
    ours = ops.conv2d(x, k, bias, stride, padding, mode, value, dilation)
    theirs = _torch_conv(x, k, bias, stride, padding, mode, value, dilation)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    trace = ops.conv_trace(x, k, bias, stride, padding, mode, value, dilation)
    np.testing.assert_allclose(trace.output, theirs, rtol=1e-10, atol=1e-10)
    last = trace.step(trace.num_steps - 1)
    assert last.total == pytest.approx(theirs[-1, -1])
    assert sum(last.channel_sums) + bias == pytest.approx(theirs[-1, -1])


def test_conv2d_2d_input_matches_torch():
    x = RNG.normal(size=(7, 8))
    k = RNG.normal(size=(3, 3))
    np.testing.assert_allclose(ops.conv2d(x, k, padding=1), _torch_conv(x[None], k[None], 0.0, 1, 1, "constant", 0.0, 1))


def _unfold_windows(x, size, stride, padding, fill):
    xt = torch.from_numpy(x)[None]
    ph, pw = padding
    xt = F.pad(xt, (pw, pw, ph, ph), value=fill)
    cols = F.unfold(xt, size, stride=stride)  # (1, C*kh*kw, L)
    c = x.shape[0]
    return cols.reshape(c, size[0] * size[1], -1)


POOL_CASES = list(itertools.product([(2, 2), (3, 3), (2, 3)], [None, 1, (2, 1)], [0, 1], [1, 3]))


@pytest.mark.parametrize(("size", "stride", "padding", "channels"), POOL_CASES)
def test_pools_match_torch(size, stride, padding, channels):
    x = RNG.normal(size=(channels, 9, 10))
    st = size if stride is None else stride
    xt = torch.from_numpy(x)[None]
    max_t = F.max_pool2d(xt, size, st, padding)[0].numpy()
    min_t = (-F.max_pool2d(-xt, size, st, padding))[0].numpy()
    avg_t = F.avg_pool2d(xt, size, st, padding)[0].numpy()  # count_include_pad=True
    np.testing.assert_allclose(ops.pool2d(x, size, stride, "max", padding), max_t)
    np.testing.assert_allclose(ops.pool2d(x, size, stride, "min", padding), min_t)
    np.testing.assert_allclose(ops.pool2d(x, size, stride, "avg", padding), avg_t, rtol=1e-12)
    # median: padded cells are ignored (nan) and the true median (mean of the middle pair) is taken
    windows = _unfold_windows(x, size, ops.as_pair(st, "stride"), ops.as_pair(padding, "padding"), float("nan"))
    med_t = torch.nanquantile(windows, 0.5, dim=1).reshape(max_t.shape).numpy()
    np.testing.assert_allclose(ops.pool2d(x, size, stride, "median", padding), med_t, rtol=1e-12)
    trace = ops.pool_trace(x, size, stride, "max", padding)
    np.testing.assert_allclose(trace.output, max_t)
    step = trace.step(trace.num_steps - 1)
    assert step.value == pytest.approx(max_t[-1, -1, -1])


def test_median_without_padding_matches_torch_unfold_median_on_odd_windows():
    x = RNG.normal(size=(2, 9, 9))
    windows = _unfold_windows(x, (3, 3), (3, 3), (0, 0), 0.0)
    med_t = windows.median(dim=1).values.reshape(2, 3, 3).numpy()  # odd count: torch's median is exact
    np.testing.assert_allclose(ops.pool2d(x, 3, mode="median"), med_t)
