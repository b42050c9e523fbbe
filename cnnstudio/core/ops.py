"""Numpy reference ops for the playground: padding, convolution, pooling and their step traces.

Convolution is cross-correlation, as in PyTorch and the lecture: the kernel is laid on the input without
flipping, the products are summed, and the bias is added. Sizes follow PyTorch (``floor`` division,
no ``ceil_mode``). These ops are written for clarity on small grids; the image view uses OpenCV for speed
and is tested against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cnnstudio.core.errors import UserError

PAD_MODES = ("constant", "reflect", "replicate", "circular")
POOL_MODES = ("max", "min", "avg", "median")

_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}

Pair = tuple[int, int]


def as_pair(value: int | tuple[int, int] | list[int], name: str, minimum: int = 0) -> Pair:
    """An int or a (height, width) pair, as PyTorch takes them; each part an integer >= ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise UserError(f"The {name} must be one number or a (height, width) pair, not {len(value)} numbers.")
        pair = tuple(value)
    else:
        pair = (value, value)
    out = []
    for part in pair:
        if isinstance(part, (bool, np.bool_)) or not isinstance(part, (int, np.integer)):
            raise UserError(f"The {name} must be a whole number, not {part!r}.")
        if part < minimum:
            raise UserError(f"The {name} must be at least {minimum}, not {int(part)}.")
        out.append(int(part))
    return out[0], out[1]


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length along one axis: ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` (PyTorch's formula).

    Raises :class:`UserError` when the (dilated) kernel does not fit into the padded input.
    """
    for value, name, low in ((n, "input size", 1), (kernel, "kernel size", 1), (stride, "stride", 1),
                             (padding, "padding", 0), (dilation, "dilation", 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise UserError(f"The {name} must be a whole number of at least {low}, not {value!r}.")
    span = dilation * (kernel - 1) + 1
    padded = n + 2 * padding
    if span > padded:
        what = f"{kernel}-wide kernel" if dilation == 1 else f"{kernel}-wide kernel with dilation {dilation} (spans {span})"
        d_text = f"{dilation}·({kernel} − 1)" if dilation != 1 else f"({kernel} − 1)"
        size = (padded - span) / stride + 1
        raise UserError(
            f"The {what} is larger than the padded input ({n} + 2·{padding} = {padded}): the output size "
            f"({n} + 2·{padding} − {d_text} − 1) / {stride} + 1 = {format_number(size)} is below 1, so there "
            "is no output. Use a smaller kernel or dilation, or more padding."
        )
    return (padded - span) // stride + 1


def conv_output_formula(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """The output-size formula with the numbers filled in, e.g. ``(1920 + 2·1 − 3) / 1 + 1 = 1920``.

    With dilation the kernel's span ``d·(k − 1) + 1`` replaces ``k``; ``⌊ ⌋`` appears when the division
    is not exact (the last incomplete window is dropped).
    """
    out = conv_output_size(n, kernel, stride, padding, dilation)
    k_text = str(kernel) if dilation == 1 else f"({dilation}·({kernel} − 1) + 1)"
    numerator = n + 2 * padding - (dilation * (kernel - 1) + 1)
    fraction = f"({n} + 2·{padding} − {k_text}) / {stride}"
    if numerator % stride:
        fraction = f"⌊{fraction}⌋"
    return f"{fraction} + 1 = {out}"


def _as_chw(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise UserError(f"The {name} must be a 2-D grid (H, W) or a stack of channels (C, H, W), not {arr.ndim}-D.")
    if 0 in arr.shape:
        raise UserError(f"The {name} is empty.")
    if not np.all(np.isfinite(arr)):
        raise UserError(f"The {name} contains values that are not finite numbers.")
    return arr


def pad2d(x, padding: int | Pair = 0, mode: str = "constant", value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` like ``torch.nn.functional.pad`` with (left, right, top, bottom).

    ``mode``: constant (with ``value``), reflect (mirror without repeating the edge), replicate (repeat
    the edge), circular (wrap around).
    """
    arr = np.asarray(x, dtype=np.float64)
    ph, pw = as_pair(padding, "padding")
    if mode not in PAD_MODES:
        raise UserError(f"Unknown padding mode {mode!r}; choose one of {', '.join(PAD_MODES)}.")
    if ph == 0 and pw == 0:
        return arr.copy()
    h, w = arr.shape[-2:]
    if mode == "reflect" and (ph >= h or pw >= w):
        raise UserError(f"Reflect padding must be smaller than the input ({h}x{w}); {ph}x{pw} is too large.")
    if mode == "circular" and (ph > h or pw > w):
        raise UserError(f"Circular padding cannot be larger than the input ({h}x{w}); {ph}x{pw} is too large.")
    widths = [(0, 0)] * (arr.ndim - 2) + [(ph, ph), (pw, pw)]
    if mode == "constant":
        return np.pad(arr, widths, mode="constant", constant_values=float(value))
    return np.pad(arr, widths, mode=_NUMPY_PAD_MODE[mode])


def _prepare_conv(x, kernel, stride, padding, dilation):
    xs = _as_chw(x, "input")
    ks = _as_chw(kernel, "kernel")
    if ks.shape[0] != xs.shape[0]:
        raise UserError(
            f"The kernel has {ks.shape[0]} channel(s) but the input has {xs.shape[0]}; they must match."
        )
    sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding")
    dh, dw = as_pair(dilation, "dilation", 1)
    oh = conv_output_size(xs.shape[1], ks.shape[1], sh, ph, dh)
    ow = conv_output_size(xs.shape[2], ks.shape[2], sw, pw, dw)
    return xs, ks, (sh, sw), (ph, pw), (dh, dw), (oh, ow)


def conv2d(x, kernel, bias: float = 0.0, stride=1, padding=0, pad_mode: str = "constant",
           pad_value: float = 0.0, dilation=1) -> np.ndarray:
    """Cross-correlate ``x`` (H, W) or (C, H, W) with ``kernel`` (kh, kw) or (C, kh, kw); add ``bias``.

    Returns the (H', W') output as float64 (one output channel: the channels' sums are added up).
    """
    xs, ks, (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _prepare_conv(x, kernel, stride, padding, dilation)
    padded = pad2d(xs, (ph, pw), pad_mode, pad_value)
    out = np.full((oh, ow), float(bias))
    for i in range(ks.shape[1]):
        for j in range(ks.shape[2]):
            r0, c0 = i * dh, j * dw
            patch = padded[:, r0: r0 + sh * (oh - 1) + 1: sh, c0: c0 + sw * (ow - 1) + 1: sw]
            out += np.tensordot(ks[:, i, j], patch, axes=(0, 0))
    return out


def _pool_value(window: np.ndarray, mode: str) -> float:
    if mode == "max":
        return float(np.max(window))
    if mode == "min":
        return float(np.min(window))
    if mode == "avg":
        return float(np.mean(window))
    return float(np.median(window))


def _prepare_pool(x, size, stride, mode, padding):
    if mode not in POOL_MODES:
        raise UserError(f"Unknown pooling mode {mode!r}; choose one of {', '.join(POOL_MODES)}.")
    xs = _as_chw(x, "input")
    kh, kw = as_pair(size, "pool size", 1)
    sh, sw = as_pair((kh, kw) if stride is None else stride, "stride", 1)
    ph, pw = as_pair(padding, "padding")
    if ph > kh // 2 or pw > kw // 2:
        raise UserError(f"Pooling padding must be at most half the pool size ({kh}x{kw}); {ph}x{pw} is too large.")
    oh = conv_output_size(xs.shape[1], kh, sh, ph)
    ow = conv_output_size(xs.shape[2], kw, sw, pw)
    # max ignores padded cells (as PyTorch pads with -inf), min likewise; avg counts them as zeros
    # (PyTorch's count_include_pad=True); median ignores them.
    fill = {"max": -np.inf, "min": np.inf, "avg": 0.0, "median": np.nan}[mode]
    padded = np.pad(xs, [(0, 0), (ph, ph), (pw, pw)], mode="constant", constant_values=fill)
    return xs, padded, (kh, kw), (sh, sw), (ph, pw), (oh, ow)


def pool2d(x, size=2, stride=None, mode: str = "max", padding=0) -> np.ndarray:
    """Pool each channel of ``x`` (H, W) or (C, H, W) with a ``size`` window moved by ``stride``.

    ``mode``: max, min, avg (padded cells count as zeros, as PyTorch's default) or median (the true
    median: the mean of the two middle values for an even count; padded cells are ignored).
    ``stride`` defaults to ``size``. Returns (H', W') for 2-D input, else (C, H', W').
    """
    xs, padded, (kh, kw), (sh, sw), _, (oh, ow) = _prepare_pool(x, size, stride, mode, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    flat = windows.reshape(*windows.shape[:3], kh * kw)
    if mode == "max":
        out = flat.max(axis=-1)
    elif mode == "min":
        out = flat.min(axis=-1)
    elif mode == "avg":
        out = flat.mean(axis=-1)
    else:
        out = np.nanmedian(flat, axis=-1)
    return out[0] if np.ndim(x) == 2 else out


# --- step traces ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvStep:
    """One output position of a convolution: the window, the products and the sums."""

    index: int
    out_row: int
    out_col: int
    rows: tuple[int, ...]  # the window's row indices in the padded input
    cols: tuple[int, ...]  # the window's column indices in the padded input
    window: np.ndarray  # (C, kh, kw) padded-input values under the kernel
    kernel: np.ndarray  # (C, kh, kw)
    products: np.ndarray  # (C, kh, kw) window * kernel
    channel_sums: tuple[float, ...]
    bias: float
    total: float

    def equation(self, channel: int = 0) -> str:
        """``3·0 + 3·1 + … = 12`` for one channel (input value · kernel weight for each cell)."""
        terms = [
            f"{_signed(value)}·{_signed(weight)}"
            for value, weight in zip(self.window[channel].ravel(), self.kernel[channel].ravel(), strict=True)
        ]
        return " + ".join(terms) + f" = {format_number(self.channel_sums[channel])}"

    def total_equation(self) -> str:
        """``308 + (−498) + 164 + 1 = −25``: each channel's sum, the bias, and the output value."""
        parts = [_signed(s) for s in self.channel_sums]
        if self.bias != 0 or len(parts) > 1:
            parts.append(_signed(self.bias))
        return " + ".join(parts) + f" = {format_number(self.total)}"


@dataclass(frozen=True)
class ConvTrace:
    """A convolution worked out position by position (for the step-through view)."""

    input: np.ndarray  # (C, H, W)
    padded: np.ndarray  # (C, H + 2ph, W + 2pw)
    kernel: np.ndarray  # (C, kh, kw)
    bias: float
    stride: Pair
    padding: Pair
    dilation: Pair
    output: np.ndarray  # (H', W')

    @property
    def num_steps(self) -> int:
        return int(self.output.size)

    def step(self, index: int) -> ConvStep:
        oh, ow = self.output.shape
        if not 0 <= index < oh * ow:
            raise IndexError(f"step {index} outside 0..{oh * ow - 1}")
        r, c = divmod(index, ow)
        kh, kw = self.kernel.shape[1:]
        rows = tuple(r * self.stride[0] + i * self.dilation[0] for i in range(kh))
        cols = tuple(c * self.stride[1] + j * self.dilation[1] for j in range(kw))
        window = self.padded[:, rows][:, :, cols]
        products = window * self.kernel
        sums = tuple(float(s) for s in products.sum(axis=(1, 2)))
        return ConvStep(index, r, c, rows, cols, window, self.kernel, products, sums, self.bias, float(self.output[r, c]))

    @cached_property
    def steps(self) -> tuple[ConvStep, ...]:
        return tuple(self.step(i) for i in range(self.num_steps))


def conv_trace(x, kernel, bias: float = 0.0, stride=1, padding=0, pad_mode: str = "constant",
               pad_value: float = 0.0, dilation=1) -> ConvTrace:
    """Work out :func:`conv2d` step by step; same arguments, same output."""
    xs, ks, s, p, d, _ = _prepare_conv(x, kernel, stride, padding, dilation)
    padded = pad2d(xs, p, pad_mode, pad_value)
    out = conv2d(xs, ks, bias, s, p, pad_mode, pad_value, d)
    return ConvTrace(xs, padded, ks, float(bias), s, p, d, out)


@dataclass(frozen=True)
class PoolStep:
    """One output position of a pooling: the window and the value it gives."""

    index: int
    channel: int
    out_row: int
    out_col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    window: np.ndarray  # (kh, kw); padded cells are nan
    value: float
    picked: tuple[int, int] | None  # (row, col) in the padded grid of the chosen cell (max/min), else None

    def equation(self, mode: str) -> str:
        values = self.window.ravel()
        if mode == "avg":  # padded cells count as zeros (PyTorch's count_include_pad)
            values = np.nan_to_num(values, nan=0.0)
        cells = [format_number(v) for v in values if np.isfinite(v)]
        name = {"max": "max", "min": "min", "avg": "mean", "median": "median"}[mode]
        return f"{name}({', '.join(cells)}) = {format_number(self.value)}"


@dataclass(frozen=True)
class PoolTrace:
    input: np.ndarray  # (C, H, W)
    padded: np.ndarray  # (C, H + 2ph, W + 2pw); padded cells are nan
    size: Pair
    stride: Pair
    padding: Pair
    mode: str
    output: np.ndarray  # (C, H', W')

    @property
    def num_steps(self) -> int:
        return int(self.output.size)

    def step(self, index: int) -> PoolStep:
        ch, oh, ow = self.output.shape
        if not 0 <= index < ch * oh * ow:
            raise IndexError(f"step {index} outside 0..{ch * oh * ow - 1}")
        channel, rest = divmod(index, oh * ow)
        r, c = divmod(rest, ow)
        rows = tuple(r * self.stride[0] + i for i in range(self.size[0]))
        cols = tuple(c * self.stride[1] + j for j in range(self.size[1]))
        window = self.padded[channel][np.ix_(rows, cols)]
        value = float(self.output[channel, r, c])
        picked = None
        if self.mode in ("max", "min"):
            filled = np.where(np.isnan(window), -np.inf if self.mode == "max" else np.inf, window)
            flat = int(np.argmax(filled) if self.mode == "max" else np.argmin(filled))
            picked = (rows[flat // self.size[1]], cols[flat % self.size[1]])
        return PoolStep(index, channel, r, c, rows, cols, window, value, picked)


def pool_trace(x, size=2, stride=None, mode: str = "max", padding=0) -> PoolTrace:
    """Work out :func:`pool2d` step by step; same arguments, same output (always (C, H', W'))."""
    xs, _, k, s, p, _ = _prepare_pool(x, size, stride, mode, padding)
    padded = np.pad(xs, [(0, 0), (p[0], p[0]), (p[1], p[1])], mode="constant", constant_values=np.nan)
    out = pool2d(xs, k, s, mode, p)
    return PoolTrace(xs, padded, k, s, p, mode, out)


# --- formatting ---------------------------------------------------------------------------------------

def format_number(value: float, digits: int = 3) -> str:
    """Whole numbers without decimals, others with up to ``digits`` decimals; a real minus sign.

    The playground's grids and equations; :func:`cnnstudio.core.numbers.human_number` does the work.
    """
    from cnnstudio.core.numbers import human_number

    return human_number(float(value), decimals=digits, minus="−")


def _signed(value: float) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith("−") else text


__all__ = [
    "PAD_MODES", "POOL_MODES", "ConvStep", "ConvTrace", "PoolStep", "PoolTrace", "as_pair", "conv2d",
    "conv_output_formula", "conv_output_size", "conv_trace", "format_number", "pad2d", "pool2d", "pool_trace",
]
