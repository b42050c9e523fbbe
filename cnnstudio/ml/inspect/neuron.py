"""One neuron of a conv layer's feature map, taken apart for the Playground's step-through (as CNN Explainer does).

:func:`conv_neuron` reads, for output channel ``c`` at ``(row, col)`` of a convolution: the layer's input
activation (all input channels), the kernel of that channel, its bias, stride, padding and dilation, and
the value the feature map has there. :meth:`ConvNeuron.patch` cuts the input around that position (the
layer's padding already in it) small enough for the step-through grids, so a convolution of the patch
with the kernel gives the same number at the returned step. ONNX (Conv nodes) and our PyTorch models
(``nn.Conv2d`` layers) alike. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError

MAX_GRID = 12  # the step-through's largest input grid (rows or columns)
MAX_KERNEL = 7  # and its largest kernel
_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@dataclass(frozen=True)
class ConvPatch:
    """The step-through's grids for one neuron: convolve ``input`` with ``kernel`` (no padding, the layer's
    stride and dilation), add ``bias``: output cell ``(out_row, out_col)`` (step ``step``) is the neuron."""

    input: np.ndarray  # (C, h, w), padded cells included
    kernel: np.ndarray  # (C, kh, kw)
    bias: float
    stride: int
    dilation: int
    out_row: int
    out_col: int
    out_cols: int
    rows: tuple[int, int]  # the patch's first and last row in the layer's (unpadded) input; may be < 0 (padding)
    cols: tuple[int, int]
    channels: tuple[int, ...]  # the layer input's channels in the patch (a group's, for grouped convolutions)

    @property
    def step(self) -> int:
        return self.out_row * self.out_cols + self.out_col


@dataclass(frozen=True)
class ConvNeuron:
    layer: str  # the activation's name (ONNX tensor or our layer id)
    label: str  # its short label ("c1")
    channel: int
    row: int
    col: int
    layer_input: np.ndarray  # (C_in, H, W) the convolution's input for this image
    kernel: np.ndarray  # (C_in / groups, kh, kw): output channel ``channel``'s filter
    bias: float
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    dilation: tuple[int, int]
    groups: int
    pad_mode: str  # numpy.pad mode: "constant" (zeros), "reflect", "edge", "wrap"
    value: float  # the feature map's value at (channel, row, col)

    out_channels: int = 1

    @property
    def input_channels(self) -> tuple[int, ...]:
        """The layer input's channels this neuron's kernel reads (all, or its group's)."""
        per_group = self.kernel.shape[0]
        group = self.channel // max(1, self.out_channels // self.groups)
        return tuple(range(group * per_group, (group + 1) * per_group))

    def describe(self) -> str:
        kh, kw = self.kernel.shape[1:]
        pad = self.padding
        pad_text = str(pad[0]) if len(set(pad)) == 1 else "top {} left {} bottom {} right {}".format(*pad)
        return (f"{self.label}: {kh}×{kw} convolution, stride {_pair_text(self.stride)}, padding {pad_text}, "
                f"dilation {_pair_text(self.dilation)}" + (f", {self.groups} groups" if self.groups > 1 else ""))

    def patch(self, max_grid: int = MAX_GRID, radius: int = 1) -> ConvPatch:
        """The input around the neuron (``radius`` output cells on each side where they fit), padded."""
        kh, kw = self.kernel.shape[1:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        if sh != sw or dh != dw:
            raise UserError(f"{self.label} has a different stride or dilation across and down; "
                            "the step-through shows square ones only.")
        if max(kh, kw) > MAX_KERNEL:
            raise UserError(f"{self.label}'s {kh}×{kw} kernel is larger than the step-through's {MAX_KERNEL}×{MAX_KERNEL}.")
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if max(eh, ew) > max_grid:
            raise UserError(f"{self.label}'s dilated kernel spans {eh}×{ew} cells, more than the step-through's "
                            f"{max_grid}×{max_grid} grid.")
        top, left, bottom, right = self.padding
        channels = self.input_channels
        x = self.layer_input[list(channels)].astype(np.float64)
        pad_args = {"constant_values": 0.0} if self.pad_mode == "constant" else {}
        padded = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode=self.pad_mode, **pad_args)
        out_h = (padded.shape[1] - eh) // sh + 1
        out_w = (padded.shape[2] - ew) // sw + 1

        def span(centre: int, count: int, extent: int, stride: int) -> tuple[int, int]:
            for r in range(radius, -1, -1):
                first, last = max(0, centre - r), min(count - 1, centre + r)
                if (last - first) * stride + extent <= max_grid:
                    return first, last
            return centre, centre

        r0, r1 = span(self.row, out_h, eh, sh)
        c0, c1 = span(self.col, out_w, ew, sw)
        rows = (r0 * sh, r1 * sh + eh)
        cols = (c0 * sw, c1 * sw + ew)
        grid = padded[:, rows[0]:rows[1], cols[0]:cols[1]]
        return ConvPatch(grid, self.kernel.astype(np.float64), float(self.bias), sh, dh, self.row - r0, self.col - c0,
                         c1 - c0 + 1, (rows[0] - top, rows[1] - 1 - top), (cols[0] - left, cols[1] - 1 - left),
                         channels)


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def is_conv_layer(model: Any, layer: str) -> bool:
    """True when activation ``layer`` of an Inspect model is a convolution's output."""
    try:
        return _onnx_conv_node(model, layer) is not None if model.onnx is not None else _torch_conv(model, layer) is not None
    except UserError:
        return False


def conv_neuron(model: Any, x: np.ndarray, layer: str, channel: int, row: int, col: int) -> ConvNeuron:
    """The neuron (``channel``, ``row``, ``col``) of conv activation ``layer`` for input ``x`` (1, C, H, W)."""
    if model.onnx is not None:
        parts = _onnx_parts(model, x, layer)
    else:
        parts = _torch_parts(model, x, layer)
    layer_input, weight, bias, stride, padding, dilation, groups, pad_mode, output = parts
    out_channels = weight.shape[0]
    if not (0 <= channel < out_channels and 0 <= row < output.shape[-2] and 0 <= col < output.shape[-1]):
        raise UserError(f"{model.label(layer)} has no neuron at channel {channel}, row {row}, column {col} "
                        f"(its output is {out_channels}×{output.shape[-2]}×{output.shape[-1]}).")
    return ConvNeuron(layer, model.label(layer), int(channel), int(row), int(col), np.asarray(layer_input, np.float32),
                      np.asarray(weight[channel], np.float32), float(bias[channel]) if bias is not None else 0.0,
                      stride, padding, dilation, groups, pad_mode, float(output[channel, row, col]), out_channels)


# --- ONNX --------------------------------------------------------------------------------------------
def _onnx_conv_node(model: Any, layer: str):
    return next((n for n in model.onnx.nodes if n.op_type == "Conv" and n.output and n.output[0] == layer), None)


def _onnx_parts(model: Any, x: np.ndarray, layer: str):
    from onnx import helper, numpy_helper

    onnx = model.onnx
    node = _onnx_conv_node(model, layer)
    if node is None:
        op = next((t.op for t in model.tensors if t.name == layer), "this")
        raise UserError(f"{model.label(layer)} is a {op} layer; only convolution outputs open the step-through.")
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if len(node.input) < 2 or node.input[1] not in onnx.initializers:
        raise UserError(f"{model.label(layer)}'s kernel is computed inside the model, not stored; it cannot be shown.")
    weight = numpy_helper.to_array(onnx.initializers[node.input[1]]).astype(np.float32)
    if weight.ndim != 4:
        raise UserError(f"{model.label(layer)} is not a 2-D convolution.")
    bias = None
    if len(node.input) > 2 and node.input[2]:
        if node.input[2] not in onnx.initializers:
            raise UserError(f"{model.label(layer)}'s bias is computed inside the model; it cannot be shown.")
        bias = numpy_helper.to_array(onnx.initializers[node.input[2]]).astype(np.float32)
    source = node.input[0]
    wanted = [layer] if source == onnx.input_name else [layer, source]
    values = onnx.run(np.asarray(x, np.float32), wanted)
    layer_input = np.asarray(x, np.float32)[0] if source == onnx.input_name else values[source][0]
    stride = tuple(int(v) for v in attrs.get("strides", [1, 1]))
    dilation = tuple(int(v) for v in attrs.get("dilations", [1, 1]))
    kh, kw = weight.shape[2:]
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s, d in zip(layer_input.shape[1:], (kh, kw), stride, dilation, strict=True):
            total = max(0, (-(-size // s) - 1) * s + (k - 1) * d + 1 - size)
            small, big = total // 2, total - total // 2
            pads.append((big, small) if auto == "SAME_LOWER" else (small, big))
        padding = (pads[0][0], pads[1][0], pads[0][1], pads[1][1])
    elif auto == "VALID":
        padding = (0, 0, 0, 0)
    else:
        p = [int(v) for v in attrs.get("pads", [0, 0, 0, 0])]
        padding = (p[0], p[1], p[2], p[3])
    return (layer_input, weight, bias, (stride[0], stride[1]), padding, (dilation[0], dilation[1]),
            int(attrs.get("group", 1)), "constant", values[layer][0])


# --- PyTorch -----------------------------------------------------------------------------------------
def _torch_conv(model: Any, layer: str):
    from cnnstudio.ml.inspect.features import torch_layer_modules

    module = torch_layer_modules(model.torch_model).get(layer)
    if module is None or type(module).__name__ != "Conv2d":
        return None
    return module


def _torch_parts(model: Any, x: np.ndarray, layer: str):
    module = _torch_conv(model, layer)
    if module is None:
        op = next((t.op for t in model.tensors if t.name == layer), "this")
        raise UserError(f"{model.label(layer)} is a {op} layer; only convolution outputs open the step-through.")
    captured: dict[str, Any] = {}

    def keep_input(_module, inputs):
        captured["input"] = inputs[0]

    handle = module.register_forward_pre_hook(keep_input)
    try:
        feats, _ = model_capture(model, x, layer)
    finally:
        handle.remove()
    layer_input = captured["input"].detach().float().cpu().numpy()[0]
    weight = module.weight.detach().float().cpu().numpy()
    bias = module.bias.detach().float().cpu().numpy() if module.bias is not None else None
    kh, kw = weight.shape[2:]
    stride, dilation = tuple(module.stride), tuple(module.dilation)
    if isinstance(module.padding, str):  # "valid" or "same" (stride 1): PyTorch puts the odd cell at the end
        if module.padding == "valid":
            padding = (0, 0, 0, 0)
        else:
            th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
            padding = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    else:
        ph, pw = module.padding
        padding = (ph, pw, ph, pw)
    mode = _PAD_MODES.get(module.padding_mode, "constant")
    return (layer_input, weight, bias, stride, padding, dilation, int(module.groups), mode, feats[layer])


def model_capture(model: Any, x: np.ndarray, layer: str):
    from cnnstudio.ml.inspect.features import capture_torch

    return capture_torch(model.torch_model, x, [layer])
