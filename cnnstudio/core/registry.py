"""The layer registry: one entry per layer type, read by everything that handles layers.

Each :class:`LayerType` carries its parameter schema (:class:`ParamSpec`: kind, PyTorch default,
range or choices, help text with the formula), its palette category, and pure functions for its
output shape, parameter count, mult-adds, a one-line description, the output-size formula with the
numbers filled in, and the PyTorch module that implements it (a name and keyword arguments, so this
module needs no torch). The designer's palette and forms, shape inference, the builder and the code
exporter all read this table; none of them branches on layer type names.

Shapes are tuples without the batch dimension: ``(channels, height, width)`` for feature maps and
``(features,)`` for flat vectors. A shape rule raises :class:`ShapeError` with a sentence that
inference prefixes with the layer's type and id.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]

CATEGORIES = ("Convolution", "Pooling", "Activation", "Normalization", "Dense", "Shape", "Head")
PARAM_KINDS = ("int", "float", "bool", "choice", "int_or_pair", "padding")


class ShapeError(ValueError):
    """A layer cannot take its input; the message is a sentence without the layer's name."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a layer type, named as in PyTorch, with PyTorch's default."""

    name: str
    kind: str  # one of PARAM_KINDS
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    help: str = ""

    def check(self, value: Any) -> str | None:
        """``None`` when ``value`` is valid, else the end of a sentence saying what is wrong."""
        checker = _CHECKERS[self.kind]
        return checker(self, value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(spec: ParamSpec, value: float) -> bool:
    return (spec.minimum is None or value >= spec.minimum) and (spec.maximum is None or value <= spec.maximum)


def _number_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _range_text(spec: ParamSpec) -> str:
    lo = "" if spec.minimum is None else _number_text(spec.minimum)
    hi = "" if spec.maximum is None else _number_text(spec.maximum)
    if lo and hi:
        return f"from {lo} to {hi}"
    if lo:
        return f"of at least {lo}"
    if hi:
        return f"of at most {hi}"
    return ""


def _check_int(spec: ParamSpec, value: Any) -> str | None:
    if _is_int(value) and _in_range(spec, value):
        return None
    return f"{spec.name} must be a whole number {_range_text(spec)} (found {value!r})".replace("  ", " ")


def _check_float(spec: ParamSpec, value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        if _in_range(spec, float(value)):
            return None
    return f"{spec.name} must be a number {_range_text(spec)} (found {value!r})".replace("  ", " ")


def _check_bool(spec: ParamSpec, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    return f"{spec.name} must be true or false (found {value!r})"


def _check_choice(spec: ParamSpec, value: Any) -> str | None:
    if value in spec.choices:
        return None
    options = ", ".join(repr(c) for c in spec.choices)
    return f"{spec.name} must be one of {options} (found {value!r})"


def _check_int_or_pair(spec: ParamSpec, value: Any) -> str | None:
    if _is_int(value) and _in_range(spec, value):
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) and _in_range(spec, v) for v in value):
        return None
    return (
        f"{spec.name} must be a whole number {_range_text(spec)} or a pair [height, width] of them "
        f"(found {value!r})"
    ).replace("  ", " ")


def _check_padding(spec: ParamSpec, value: Any) -> str | None:
    if value in ("same", "valid"):
        return None
    if _check_int_or_pair(spec, value) is None:
        return None
    return (
        f"{spec.name} must be a whole number {_range_text(spec)}, a pair [height, width] of them, "
        f"'same' or 'valid' (found {value!r})"
    ).replace("  ", " ")


_CHECKERS: dict[str, Callable[[ParamSpec, Any], str | None]] = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "int_or_pair": _check_int_or_pair,
    "padding": _check_padding,
}


def pair(value: Any) -> tuple[int, int]:
    """An int or a ``[h, w]`` pair as ``(h, w)``."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def format_shape(shape: Shape | None) -> str:
    """``(6, 28, 28)`` as ``6x28x28``; a flat ``(120,)`` as ``120``."""
    if shape is None:
        return "?"
    return "x".join(str(d) for d in shape)


def _pair_text(value: Any, sep: str = "x") -> str:
    h, w = pair(value)
    return str(h) if h == w else f"{h}{sep}{w}"


def _window_text(value: Any) -> str:
    h, w = pair(value)
    return f"{h}x{w}"


def _torch_arg(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# --- shape helpers -----------------------------------------------------------------------------------


def _need_map(shape: Shape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(
            f"needs a feature map (channels x height x width), but its input is flat ({shape[0]} values); "
            f"{what}"
        )
    return shape  # type: ignore[return-value]


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1`` (may be < 1: invalid)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """PyTorch's pooling output size, including its ceil_mode rule (the last window starts inside)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """PyTorch's 'same' padding (before, after); the extra one goes after (right/bottom)."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


# --- conv2d ------------------------------------------------------------------------------------------


def _conv_pads(layer: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """The conv's padding as ((top, bottom), (left, right)), resolving 'same' and 'valid'."""
    kh, kw = pair(layer["kernel_size"])
    dh, dw = pair(layer["dilation"])
    padding = layer["padding"]
    if padding == "same":
        return _same_padding(kh, dh), _same_padding(kw, dw)
    if padding == "valid":
        return (0, 0), (0, 0)
    ph, pw = pair(padding)
    return (ph, ph), (pw, pw)


def _conv_shape(layer: dict, shape: Shape) -> Shape:
    c, h, w = _need_map(shape, "put it before the flatten layer")
    groups = layer["groups"]
    out_c = layer["out_channels"]
    if c % groups:
        raise ShapeError(f"its {c} input channels cannot be split into {groups} groups")
    if out_c % groups:
        raise ShapeError(f"its {out_c} filters cannot be split into {groups} groups")
    kh, kw = pair(layer["kernel_size"])
    sh, sw = pair(layer["stride"])
    dh, dw = pair(layer["dilation"])
    if layer["padding"] == "same" and (sh, sw) != (1, 1):
        raise ShapeError("padding 'same' needs stride 1 (PyTorch's rule); set the padding as a number")
    (pt, pb), (pl, pr) = _conv_pads(layer)
    mode = layer["padding_mode"]
    if mode == "reflect" and (max(pt, pb) >= h or max(pl, pr) >= w):
        raise ShapeError(f"reflect padding must be smaller than its {h}x{w} input")
    if mode == "circular" and (max(pt, pb) > h or max(pl, pr) > w):
        raise ShapeError(f"circular padding cannot be larger than its {h}x{w} input")
    eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    in_h, in_w = h + pt + pb, w + pl + pr
    if eff_h > in_h or eff_w > in_w:
        kernel = f"{eff_h}x{eff_w}" if (dh, dw) == (1, 1) else f"dilated {eff_h}x{eff_w}"
        raise ShapeError(f"{kernel} kernel is larger than its {in_h}x{in_w} padded input")
    out_h = (in_h - eff_h) // sh + 1
    out_w = (in_w - eff_w) // sw + 1
    return (out_c, out_h, out_w)


def _conv_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    kh, kw = pair(layer["kernel_size"])
    weights = layer["out_channels"] * (inp[0] // layer["groups"]) * kh * kw
    return weights, layer["out_channels"] if layer["bias"] else 0


def _conv_mult_adds(layer: dict, inp: Shape, out: Shape) -> int:
    weights, _ = _conv_params(layer, inp, out)
    return weights * out[1] * out[2]


def _conv_describe(layer: dict) -> str:
    padding = layer.get("padding", 0)
    pad = padding if isinstance(padding, str) else _pair_text(padding, ",")
    parts = [f"conv {_window_text(layer.get('kernel_size', 3))}", f"{layer.get('out_channels', '?')} filters"]
    parts.append(f"stride {_pair_text(layer.get('stride', 1), ',')}")
    parts.append(f"pad {pad}")
    if layer.get("padding_mode", "zeros") != "zeros":
        parts.append(f"{layer['padding_mode']} padding")
    if pair(layer.get("dilation", 1)) != (1, 1):
        parts.append(f"dilation {_pair_text(layer['dilation'], ',')}")
    if layer.get("groups", 1) != 1:
        parts.append(f"{layer['groups']} groups")
    if layer.get("bias", True) is False:
        parts.append("no bias")
    return ", ".join(parts)


def _size_formula(names: tuple[str, str], sizes: tuple[int, int], terms: list[tuple[str, str]], result) -> str:
    """One formula line per dimension, or one for both when the numbers are the same."""
    lines = []
    both = sizes[0] == sizes[1] and terms[0][1] == terms[1][1]
    dims = [0] if both else [0, 1]
    for i in dims:
        label = f"{names[0]} = {names[1]}" if both else names[i]
        generic, filled = terms[i]
        lines.append(f"{label} = {generic} = {filled} = {result[i]}")
    return "\n".join(lines)


def _conv_formula(layer: dict, shape: Shape) -> str:
    generic = "floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1"
    if shape is None or len(shape) != 3:
        return f"out = {generic}"
    kh, kw = pair(layer["kernel_size"])
    sh, sw = pair(layer["stride"])
    dh, dw = pair(layer["dilation"])
    (pt, pb), (pl, pr) = _conv_pads(layer)
    terms = []
    results = []
    for size, k, s, d, p0, p1 in ((shape[1], kh, sh, dh, pt, pb), (shape[2], kw, sw, dw, pl, pr)):
        pad_text = f"2*{p0}" if p0 == p1 else f"{p0}+{p1}"
        terms.append((generic, f"floor(({size} + {pad_text} - {d}*({k}-1) - 1) / {s}) + 1"))
        results.append((size + p0 + p1 - d * (k - 1) - 1) // s + 1)
    return _size_formula(("H_out", "W_out"), (shape[1], shape[2]), terms, results)


def _conv_torch(layer: dict, shape: Shape) -> tuple[str, dict]:
    return "nn.Conv2d", {
        "in_channels": shape[0],
        "out_channels": layer["out_channels"],
        "kernel_size": _torch_arg(layer["kernel_size"]),
        "stride": _torch_arg(layer["stride"]),
        "padding": _torch_arg(layer["padding"]),
        "dilation": _torch_arg(layer["dilation"]),
        "groups": layer["groups"],
        "bias": layer["bias"],
        "padding_mode": layer["padding_mode"],
    }


# --- pooling -----------------------------------------------------------------------------------------


def _pool_shape(layer: dict, shape: Shape) -> Shape:
    c, h, w = _need_map(shape, "put it before the flatten layer")
    kh, kw = pair(layer["kernel_size"])
    sh, sw = pair(layer["stride"])
    ph, pw = pair(layer["padding"])
    dh, dw = pair(layer.get("dilation", 1))
    if ph > kh // 2 or pw > kw // 2:
        raise ShapeError(
            f"padding {_pair_text(layer['padding'], ',')} is more than half its "
            f"{kh}x{kw} window (PyTorch's rule)"
        )
    ceil_mode = layer["ceil_mode"]
    out_h = pool_output_size(h, kh, sh, ph, dh, ceil_mode)
    out_w = pool_output_size(w, kw, sw, pw, dw, ceil_mode)
    if out_h < 1 or out_w < 1:
        eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        raise ShapeError(f"{eff_h}x{eff_w} window is larger than its {h + 2 * ph}x{w + 2 * pw} padded input")
    return (c, out_h, out_w)


def _pool_describe(word: str) -> Callable[[dict], str]:
    def describe(layer: dict) -> str:
        parts = [f"{word} {_window_text(layer.get('kernel_size', 2))}"]
        stride = layer.get("stride")
        if stride is not None:
            parts.append(f"stride {_pair_text(stride, ',')}")
        if pair(layer.get("padding", 0)) != (0, 0):
            parts.append(f"pad {_pair_text(layer['padding'], ',')}")
        if pair(layer.get("dilation", 1)) != (1, 1):
            parts.append(f"dilation {_pair_text(layer['dilation'], ',')}")
        if layer.get("ceil_mode"):
            parts.append("ceil mode")
        return ", ".join(parts)

    return describe


def _pool_formula(layer: dict, shape: Shape) -> str:
    ceil_mode = bool(layer.get("ceil_mode"))
    rounding = "ceil" if ceil_mode else "floor"
    generic = f"{rounding}((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1"
    if shape is None or len(shape) != 3:
        return f"out = {generic}"
    kh, kw = pair(layer["kernel_size"])
    sh, sw = pair(layer["stride"])
    ph, pw = pair(layer["padding"])
    dh, dw = pair(layer.get("dilation", 1))
    terms, results = [], []
    for size, k, s, p, d in ((shape[1], kh, sh, ph, dh), (shape[2], kw, sw, pw, dw)):
        terms.append((generic, f"{rounding}(({size} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1"))
        results.append(pool_output_size(size, k, s, p, d, ceil_mode))
    text = _size_formula(("H_out", "W_out"), (shape[1], shape[2]), terms, results)
    if ceil_mode:
        text += "\n(ceil mode drops a last window that would start in the padding)"
    return text


def _max_pool_torch(class_name: str) -> Callable[[dict, Shape], tuple[str, dict]]:
    def torch_module(layer: dict, shape: Shape) -> tuple[str, dict]:
        return class_name, {
            "kernel_size": _torch_arg(layer["kernel_size"]),
            "stride": _torch_arg(layer["stride"]),
            "padding": _torch_arg(layer["padding"]),
            "dilation": _torch_arg(layer["dilation"]),
            "ceil_mode": layer["ceil_mode"],
        }

    return torch_module


def _avg_pool_torch(layer: dict, shape: Shape) -> tuple[str, dict]:
    return "nn.AvgPool2d", {
        "kernel_size": _torch_arg(layer["kernel_size"]),
        "stride": _torch_arg(layer["stride"]),
        "padding": _torch_arg(layer["padding"]),
        "ceil_mode": layer["ceil_mode"],
        "count_include_pad": layer["count_include_pad"],
    }


def _global_pool_shape(layer: dict, shape: Shape) -> Shape:
    c, _h, _w = _need_map(shape, "put it before the flatten layer")
    return (c,)


# --- elementwise and the rest --------------------------------------------------------------------------


def _same_shape(layer: dict, shape: Shape) -> Shape:
    return shape


def _no_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    return 0, 0


def _no_mult_adds(layer: dict, inp: Shape, out: Shape) -> int:
    return 0


def _same_formula(layer: dict, shape: Shape) -> str:
    return f"out = in = {format_shape(shape)}" if shape else "out = in (same shape)"


def _batchnorm_shape(layer: dict, shape: Shape) -> Shape:
    _need_map(shape, "batchnorm2d normalises each channel of a feature map")
    return shape


def _batchnorm_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    return (inp[0], inp[0]) if layer["affine"] else (0, 0)


def _flatten_shape(layer: dict, shape: Shape) -> Shape:
    return (math.prod(shape),)


def _flatten_formula(layer: dict, shape: Shape) -> str:
    if shape is None:
        return "out = channels * height * width"
    if len(shape) == 1:
        return f"out = {shape[0]} (already flat)"
    return f"out = {' * '.join(str(d) for d in shape)} = {math.prod(shape)}"


def _linear_shape(layer: dict, shape: Shape) -> Shape:
    if len(shape) != 1:
        raise ShapeError(f"needs a flat input, but its input is a {format_shape(shape)} feature map; add a flatten layer before it")
    return (layer["out_features"],)


def _linear_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    return inp[0] * layer["out_features"], layer["out_features"] if layer["bias"] else 0


def _linear_mult_adds(layer: dict, inp: Shape, out: Shape) -> int:
    return inp[0] * layer["out_features"]


def _linear_formula(layer: dict, shape: Shape) -> str:
    if shape is None or len(shape) != 1:
        return "out = out_features; weights = in * out_features"
    n = layer["out_features"]
    bias = f" + {n} biases" if layer.get("bias", True) else ""
    return f"out = {n}; weights = {shape[0]} * {n} = {shape[0] * n}{bias}"


def _simple_torch(class_name: str, *names: str) -> Callable[[dict, Shape], tuple[str, dict]]:
    def torch_module(layer: dict, shape: Shape) -> tuple[str, dict]:
        return class_name, {name: layer[name] for name in names}

    return torch_module


def _fixed_describe(text: str) -> Callable[[dict], str]:
    return lambda layer: text


# --- upsampling: transposed convolution and resize ------------------------------------------------------


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """``(size - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1`` (PyTorch's ConvTranspose2d)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _deconv_shape(layer: dict, shape: Shape) -> Shape:
    c, h, w = _need_map(shape, "put it before the flatten layer")
    kh, kw = pair(layer["kernel_size"])
    sh, sw = pair(layer["stride"])
    ph, pw = pair(layer["padding"])
    oh, ow = pair(layer["output_padding"])
    dh, dw = pair(layer["dilation"])
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ShapeError("output_padding must be smaller than the stride or the dilation (PyTorch's rule)")
    out_h = conv_transpose_output_size(h, kh, sh, ph, oh, dh)
    out_w = conv_transpose_output_size(w, kw, sw, pw, ow, dw)
    if out_h < 1 or out_w < 1:
        raise ShapeError(f"its padding leaves no output ({out_h}x{out_w}) from its {h}x{w} input")
    return (layer["out_channels"], out_h, out_w)


def _deconv_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    kh, kw = pair(layer["kernel_size"])
    return inp[0] * layer["out_channels"] * kh * kw, layer["out_channels"] if layer["bias"] else 0


def _deconv_mult_adds(layer: dict, inp: Shape, out: Shape) -> int:
    weights, _ = _deconv_params(layer, inp, out)
    return weights * inp[1] * inp[2]  # every input value is spread over a kernel window of every output channel


def _deconv_formula(layer: dict, shape: Shape) -> str:
    generic = "(in - 1)*stride - 2*pad + dilation*(kernel-1) + output_padding + 1"
    if shape is None or len(shape) != 3:
        return f"out = {generic}"
    terms, results = [], []
    for size, k, s_, p, o, d in zip(shape[1:], pair(layer["kernel_size"]), pair(layer["stride"]), pair(layer["padding"]),
                                     pair(layer["output_padding"]), pair(layer["dilation"])):
        terms.append((generic, f"({size} - 1)*{s_} - 2*{p} + {d}*({k}-1) + {o} + 1"))
        results.append(conv_transpose_output_size(size, k, s_, p, o, d))
    return _size_formula(("H_out", "W_out"), (shape[1], shape[2]), terms, results)


def _deconv_torch(layer: dict, shape: Shape) -> tuple[str, dict]:
    return "nn.ConvTranspose2d", {
        "in_channels": shape[0], "out_channels": layer["out_channels"],
        "kernel_size": _torch_arg(layer["kernel_size"]), "stride": _torch_arg(layer["stride"]),
        "padding": _torch_arg(layer["padding"]), "output_padding": _torch_arg(layer["output_padding"]),
        "dilation": _torch_arg(layer["dilation"]), "bias": layer["bias"],
    }


def _upsample_shape(layer: dict, shape: Shape) -> Shape:
    c, h, w = _need_map(shape, "it enlarges feature maps, before any flatten")
    sh, sw = pair(layer["scale_factor"])
    return (c, h * sh, w * sw)


def _upsample_formula(layer: dict, shape: Shape) -> str:
    if shape is None or len(shape) != 3:
        return "out = in * scale_factor"
    sh, sw = pair(layer["scale_factor"])
    return f"H_out = {shape[1]} * {sh} = {shape[1] * sh}, W_out = {shape[2]} * {sw} = {shape[2] * sw}"


def _upsample_torch(layer: dict, shape: Shape) -> tuple[str, dict]:
    kwargs: dict = {"scale_factor": tuple(float(v) for v in pair(layer["scale_factor"])), "mode": layer["mode"]}
    if layer["mode"] == "bilinear":
        kwargs["align_corners"] = False
    return "nn.Upsample", kwargs


# --- detect_head: a grid detection head (CenterNet style) -----------------------------------------------

#: the values a detection head gives per grid cell after its class scores: centre offset x, y in the
#: cell and box width, height as fractions of the image (all through a sigmoid when decoded)
DETECT_BOX_VALUES = 4


def _detect_head_shape(layer: dict, shape: Shape) -> Shape:
    c, h, w = _need_map(shape, "a detection head works on the feature map of a conv body, before any flatten.")
    return (int(layer["num_classes"]) + DETECT_BOX_VALUES, h, w)


def _detect_head_params(layer: dict, inp: Shape, out: Shape) -> tuple[int, int]:
    hidden, c = int(layer["hidden"]), inp[0]
    if hidden:
        return hidden * c * 9 + out[0] * hidden, hidden + out[0]
    return out[0] * c, out[0]


def _detect_head_mult_adds(layer: dict, inp: Shape, out: Shape) -> int:
    weights, _ = _detect_head_params(layer, inp, out)
    return weights * out[1] * out[2]


def _detect_head_formula(layer: dict, shape: Shape) -> str:
    if not shape:
        return "out = (classes + 4) x H x W: per cell a score per class, centre offset x, y and box w, h"
    k = layer["num_classes"]
    return (f"out = ({k} classes + 4 box values) x {shape[1]} x {shape[2]} cells = "
            f"{k + DETECT_BOX_VALUES}x{shape[1]}x{shape[2]}")


def _detect_head_torch(layer: dict, shape: Shape) -> tuple[str, dict]:
    return "DetectHead", {"in_channels": shape[0], "num_classes": layer["num_classes"], "hidden": layer["hidden"]}


# --- the table -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerType:
    """A layer type: its schema and the pure functions every part of the app uses."""

    name: str
    title: str
    category: str
    help: str
    params: list[ParamSpec] = field(default_factory=list)
    shape_rule: Callable[[dict, Shape], Shape] = _same_shape
    param_rule: Callable[[dict, Shape, Shape], tuple[int, int]] = _no_params
    mult_adds_rule: Callable[[dict, Shape, Shape], int] = _no_mult_adds
    describe_rule: Callable[[dict], str] = _fixed_describe("")
    formula_rule: Callable[[dict, Shape], str] = _same_formula
    torch_rule: Callable[[dict, Shape], tuple[str, dict]] = _simple_torch("nn.Identity")

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no parameter {name!r}")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, tuple) else p.default) for p in self.params}

    def infer_shape(self, layer: dict, input_shape: Shape) -> Shape:
        """Output shape for ``input_shape``; raises :class:`ShapeError` when the layer cannot take it."""
        return self.shape_rule(layer, input_shape)

    def param_count(self, layer: dict, input_shape: Shape, output_shape: Shape) -> tuple[int, int]:
        """``(weights, biases)``: the trainable tensors PyTorch creates."""
        return self.param_rule(layer, input_shape, output_shape)

    def mult_adds(self, layer: dict, input_shape: Shape, output_shape: Shape) -> int:
        """Multiply-accumulate operations per sample (conv and linear; others count 0, as torchinfo)."""
        return self.mult_adds_rule(layer, input_shape, output_shape)

    def describe(self, layer: dict) -> str:
        return self.describe_rule(layer)

    def formula(self, layer: dict, input_shape: Shape | None) -> str:
        return self.formula_rule(layer, input_shape)

    def torch_module(self, layer: dict, input_shape: Shape) -> tuple[str, dict]:
        """``("nn.Conv2d", kwargs)`` or a CNN Studio module name (``"MinPool2d"``) and its kwargs."""
        return self.torch_rule(layer, input_shape)


def _pool_params(with_dilation: bool, avg: bool = False) -> list[ParamSpec]:
    params = [
        ParamSpec("kernel_size", "int_or_pair", 2, 1, 256, help="Window size (height, width)."),
        ParamSpec(
            "stride",
            "int_or_pair",
            2,
            1,
            256,
            help="Step between windows. PyTorch's default is the kernel size (a missing stride is set to it).",
        ),
        ParamSpec("padding", "int_or_pair", 0, 0, 128, help="Implicit padding on each side; at most half the window."),
    ]
    if with_dilation:
        params.append(ParamSpec("dilation", "int_or_pair", 1, 1, 64, help="Spacing between window elements."))
    params.append(
        ParamSpec(
            "ceil_mode",
            "bool",
            False,
            help="Round the output size up instead of down, so a partial last window counts.",
        )
    )
    if avg:
        params.append(
            ParamSpec("count_include_pad", "bool", True, help="Count padded zeros in the average's denominator.")
        )
    return params


_POOL_HELP = " Output size: floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1 per dimension."

_TYPES: list[LayerType] = [
    LayerType(
        name="conv2d",
        title="Convolution 2D",
        category="Convolution",
        help=(
            "Slides out_channels learned kernels over the input; each output value is a weighted sum of a "
            "kernel-sized window over all input channels (of its group) plus a bias. Output size: "
            "floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1 per dimension; "
            "weights = out_channels * in_channels/groups * kernel_h * kernel_w."
        ),
        params=[
            ParamSpec("out_channels", "int", 8, 1, 8192, help="Number of filters (output channels)."),
            ParamSpec(
                "kernel_size",
                "int_or_pair",
                3,
                1,
                256,
                help="Kernel height and width. out = floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1.",
            ),
            ParamSpec("stride", "int_or_pair", 1, 1, 256, help="Step of the kernel; stride s divides the output size by about s."),
            ParamSpec(
                "padding",
                "padding",
                0,
                0,
                256,
                help="Added border on each side: a number, a pair, 'valid' (0) or 'same' (output = input; stride 1 only).",
            ),
            ParamSpec(
                "padding_mode",
                "choice",
                "zeros",
                choices=("zeros", "reflect", "replicate", "circular"),
                help="What the border holds: zeros, a mirror of the edge, the edge value repeated, or wrap-around.",
            ),
            ParamSpec(
                "dilation",
                "int_or_pair",
                1,
                1,
                64,
                help="Spacing between kernel taps; the kernel covers dilation*(kernel-1)+1 pixels.",
            ),
            ParamSpec(
                "groups",
                "int",
                1,
                1,
                8192,
                help="Split channels into independent groups (in and out channels must divide); weights / groups.",
            ),
            ParamSpec("bias", "bool", True, help="Add a learned bias per filter (out_channels parameters)."),
        ],
        shape_rule=_conv_shape,
        param_rule=_conv_params,
        mult_adds_rule=_conv_mult_adds,
        describe_rule=_conv_describe,
        formula_rule=_conv_formula,
        torch_rule=_conv_torch,
    ),
    LayerType(
        name="maxpool2d",
        title="Max pooling",
        category="Pooling",
        help="Keeps the largest value in each window of each channel; no parameters." + _POOL_HELP,
        params=_pool_params(with_dilation=True),
        shape_rule=_pool_shape,
        describe_rule=_pool_describe("max pool"),
        formula_rule=_pool_formula,
        torch_rule=_max_pool_torch("nn.MaxPool2d"),
    ),
    LayerType(
        name="avgpool2d",
        title="Average pooling",
        category="Pooling",
        help="Averages each window of each channel; no parameters." + _POOL_HELP.replace("dilation*", "1*"),
        params=_pool_params(with_dilation=False, avg=True),
        shape_rule=_pool_shape,
        describe_rule=_pool_describe("avg pool"),
        formula_rule=_pool_formula,
        torch_rule=_avg_pool_torch,
    ),
    LayerType(
        name="minpool2d",
        title="Min pooling",
        category="Pooling",
        help="Keeps the smallest value in each window of each channel (= -maxpool(-x)); no parameters." + _POOL_HELP,
        params=_pool_params(with_dilation=True),
        shape_rule=_pool_shape,
        describe_rule=_pool_describe("min pool"),
        formula_rule=_pool_formula,
        torch_rule=_max_pool_torch("MinPool2d"),
    ),
    LayerType(
        name="global_avgpool",
        title="Global average pooling",
        category="Pooling",
        help="Averages each whole channel to one number: C x H x W becomes a flat vector of C values.",
        shape_rule=_global_pool_shape,
        describe_rule=_fixed_describe("global average pool"),
        formula_rule=lambda layer, shape: (
            f"out = channels = {shape[0]}" if shape else "out = channels (one average per channel)"
        ),
        torch_rule=_simple_torch("GlobalAvgPool2d"),
    ),
    LayerType(
        name="batchnorm2d",
        title="Batch normalization",
        category="Normalization",
        help=(
            "Normalises each channel to zero mean and unit variance over the batch, then scales and shifts it "
            "(2 * channels learned parameters when affine): y = (x - mean) / sqrt(var + eps) * gamma + beta."
        ),
        params=[
            ParamSpec("eps", "float", 1e-5, 0.0, 1.0, help="Added to the variance to avoid division by zero."),
            ParamSpec(
                "momentum", "float", 0.1, 0.0, 1.0, help="How fast the running mean and variance follow the batches."
            ),
            ParamSpec("affine", "bool", True, help="Learn a scale (gamma) and shift (beta) per channel."),
        ],
        shape_rule=_batchnorm_shape,
        param_rule=_batchnorm_params,
        describe_rule=_fixed_describe("batch norm"),
        torch_rule=lambda layer, shape: (
            "nn.BatchNorm2d",
            {"num_features": shape[0], "eps": layer["eps"], "momentum": layer["momentum"], "affine": layer["affine"]},
        ),
    ),
    LayerType(
        name="dropout",
        title="Dropout",
        category="Normalization",
        help="While training, zeroes each value with probability p and scales the rest by 1/(1-p); off when evaluating.",
        params=[ParamSpec("p", "float", 0.5, 0.0, 1.0, help="Probability of zeroing a value while training.")],
        describe_rule=lambda layer: f"dropout p={layer.get('p', 0.5):g}",
        torch_rule=_simple_torch("nn.Dropout", "p"),
    ),
    LayerType(
        name="relu",
        title="ReLU",
        category="Activation",
        help="max(0, x): keeps positive values, zeroes negative ones.",
        describe_rule=_fixed_describe("ReLU"),
        torch_rule=_simple_torch("nn.ReLU"),
    ),
    LayerType(
        name="leaky_relu",
        title="Leaky ReLU",
        category="Activation",
        help="x for x > 0, negative_slope * x otherwise.",
        params=[
            ParamSpec("negative_slope", "float", 0.01, 0.0, 1.0, help="Slope for negative inputs.")
        ],
        describe_rule=lambda layer: f"leaky ReLU slope {layer.get('negative_slope', 0.01):g}",
        torch_rule=_simple_torch("nn.LeakyReLU", "negative_slope"),
    ),
    LayerType(
        name="sigmoid",
        title="Sigmoid",
        category="Activation",
        help="1 / (1 + exp(-x)): squashes values into (0, 1).",
        describe_rule=_fixed_describe("sigmoid"),
        torch_rule=_simple_torch("nn.Sigmoid"),
    ),
    LayerType(
        name="tanh",
        title="Tanh",
        category="Activation",
        help="tanh(x): squashes values into (-1, 1).",
        describe_rule=_fixed_describe("tanh"),
        torch_rule=_simple_torch("nn.Tanh"),
    ),
    LayerType(
        name="sign",
        title="Sign",
        category="Activation",
        help="sign(x): -1 for negative, 0 for zero, 1 for positive values (its gradient is zero everywhere).",
        describe_rule=_fixed_describe("sign"),
        torch_rule=_simple_torch("Sign"),
    ),
    LayerType(
        name="gelu",
        title="GELU",
        category="Activation",
        help="x * Phi(x), where Phi is the standard normal CDF; a smooth ReLU.",
        params=[
            ParamSpec(
                "approximate",
                "choice",
                "none",
                choices=("none", "tanh"),
                help="'tanh' uses the faster tanh approximation of Phi.",
            )
        ],
        describe_rule=lambda layer: "GELU" if layer.get("approximate", "none") == "none" else "GELU (tanh)",
        torch_rule=_simple_torch("nn.GELU", "approximate"),
    ),
    LayerType(
        name="softmax",
        title="Softmax",
        category="Activation",
        help=(
            "exp(x_i) / sum_j exp(x_j) over the features (or channels): values in (0, 1) that sum to 1. "
            "Classification losses apply it themselves; use it only when you want probabilities as outputs."
        ),
        describe_rule=_fixed_describe("softmax"),
        torch_rule=lambda layer, shape: ("nn.Softmax", {"dim": 1}),
    ),
    LayerType(
        name="flatten",
        title="Flatten",
        category="Shape",
        help="Turns a C x H x W feature map into a flat vector of C*H*W values for dense layers.",
        shape_rule=_flatten_shape,
        describe_rule=_fixed_describe("flatten"),
        formula_rule=_flatten_formula,
        torch_rule=_simple_torch("nn.Flatten"),
    ),
    LayerType(
        name="linear",
        title="Linear (dense)",
        category="Dense",
        help=(
            "Fully connected: every output is a weighted sum of all inputs plus a bias. "
            "Weights = in_features * out_features; biases = out_features."
        ),
        params=[
            ParamSpec("out_features", "int", 10, 1, 1_000_000, help="Number of outputs (neurons)."),
            ParamSpec("bias", "bool", True, help="Add a learned bias per output."),
        ],
        shape_rule=_linear_shape,
        param_rule=_linear_params,
        mult_adds_rule=_linear_mult_adds,
        describe_rule=lambda layer: f"dense, {layer.get('out_features', '?')} outputs"
        + ("" if layer.get("bias", True) else ", no bias"),
        formula_rule=_linear_formula,
        torch_rule=lambda layer, shape: (
            "nn.Linear",
            {"in_features": shape[0], "out_features": layer["out_features"], "bias": layer["bias"]},
        ),
    ),
    LayerType(
        name="conv_transpose2d",
        title="Transposed convolution 2D",
        category="Convolution",
        help=(
            "Learned upsampling (a 'deconvolution'): each input value scatters a kernel-sized window into the "
            "output, so stride s enlarges the map about s times. Output size: (in - 1)*stride - 2*pad + "
            "dilation*(kernel-1) + output_padding + 1; weights = in_channels * out_channels * kernel_h * kernel_w."
        ),
        params=[
            ParamSpec("out_channels", "int", 8, 1, 8192, help="Number of output channels."),
            ParamSpec("kernel_size", "int_or_pair", 2, 1, 64, help="Kernel height and width."),
            ParamSpec("stride", "int_or_pair", 2, 1, 64, help="Upsampling factor: stride 2 with kernel 2 doubles the size."),
            ParamSpec("padding", "int_or_pair", 0, 0, 64, help="Removed from each side of the output: dilation*(kernel-1) - pad."),
            ParamSpec("output_padding", "int_or_pair", 0, 0, 63,
                      help="Added to one side of the output (smaller than the stride): picks among sizes a strided conv maps to one."),
            ParamSpec("dilation", "int_or_pair", 1, 1, 64, help="Spacing between kernel elements."),
            ParamSpec("bias", "bool", True, help="Add a learned bias per output channel."),
        ],
        shape_rule=_deconv_shape,
        param_rule=_deconv_params,
        mult_adds_rule=_deconv_mult_adds,
        describe_rule=lambda layer: (f"transposed conv {_window_text(layer.get('kernel_size', 2))}, "
                                     f"{layer.get('out_channels', '?')} filters, stride {_pair_text(layer.get('stride', 2))}"),
        formula_rule=_deconv_formula,
        torch_rule=_deconv_torch,
    ),
    LayerType(
        name="upsample",
        title="Upsample",
        category="Shape",
        help="Enlarges each channel by a whole factor, repeating pixels (nearest) or interpolating (bilinear); no parameters.",
        params=[
            ParamSpec("scale_factor", "int_or_pair", 2, 1, 16, help="How many times larger (height, width): out = in * factor."),
            ParamSpec("mode", "choice", "nearest", choices=("nearest", "bilinear"),
                      help="nearest repeats each value; bilinear interpolates between neighbours (align_corners off)."),
        ],
        shape_rule=_upsample_shape,
        describe_rule=lambda layer: f"upsample x{_pair_text(layer.get('scale_factor', 2))} ({layer.get('mode', 'nearest')})",
        formula_rule=_upsample_formula,
        torch_rule=_upsample_torch,
    ),
    LayerType(
        name="detect_head",
        title="Detection head",
        category="Head",
        help=(
            "Finds several objects: each cell of the feature map gives a score per class (is an object's centre "
            "here?) and the box of that object (centre offset in the cell, width and height). Put it on the "
            "last feature map of a conv body; its cell size (stride) is the image size over the map size. "
            "Optional hidden 3x3 conv + ReLU, then a 1x1 conv to classes + 4 channels."
        ),
        params=[
            ParamSpec("num_classes", "int", 5, 1, 10_000, help="Number of object classes."),
            ParamSpec("hidden", "int", 64, 0, 4096,
                      help="Channels of the 3x3 conv + ReLU before the output (0 = a single 1x1 conv)."),
        ],
        shape_rule=_detect_head_shape,
        param_rule=_detect_head_params,
        mult_adds_rule=_detect_head_mult_adds,
        describe_rule=lambda layer: f"detection head, {layer.get('num_classes', '?')} classes",
        formula_rule=_detect_head_formula,
        torch_rule=_detect_head_torch,
    ),
]

LAYER_TYPES: dict[str, LayerType] = {t.name: t for t in _TYPES}


def get_layer_type(name: str) -> LayerType:
    """The registry entry for ``name``; ``KeyError`` with the known names when there is none."""
    try:
        return LAYER_TYPES[name]
    except (KeyError, TypeError):
        known = ", ".join(LAYER_TYPES)
        raise KeyError(f"Unknown layer type {name!r}; known types: {known}.") from None


def register_layer_type(layer_type: LayerType) -> LayerType:
    """Add a layer type (palette, forms, inference, builder and exporters read it from here on)."""
    if layer_type.category not in CATEGORIES:
        raise ValueError(f"unknown category {layer_type.category!r}; use one of {', '.join(CATEGORIES)}")
    LAYER_TYPES[layer_type.name] = layer_type
    return layer_type


def unregister_layer_type(name: str) -> None:
    """Remove a layer type (a test that registered a toy one)."""
    LAYER_TYPES.pop(name, None)


def categories() -> dict[str, list[LayerType]]:
    """Palette order: category -> its layer types, in registry order."""
    out: dict[str, list[LayerType]] = {c: [] for c in CATEGORIES}
    for layer_type in LAYER_TYPES.values():
        out[layer_type.category].append(layer_type)
    return out


def _with_defaults(layer: dict) -> dict:
    layer_type = get_layer_type(layer.get("type"))
    filled = layer_type.defaults()
    filled.update(layer)
    if layer_type.category == "Pooling" and "stride" in filled and layer.get("stride") is None:
        filled["stride"] = filled["kernel_size"]
    return filled


def describe(layer: dict) -> str:
    """A short human description: ``conv 5x5, 6 filters, stride 1, pad 2``."""
    try:
        return get_layer_type(layer.get("type")).describe(_with_defaults(layer))
    except (KeyError, TypeError, ValueError, IndexError):
        return str(layer.get("type", "layer"))


def formula(layer: dict, input_shape: Shape | None) -> str:
    """The output-size formula with this layer's numbers filled in (generic when they cannot be)."""
    layer_type = LAYER_TYPES.get(layer.get("type")) if isinstance(layer.get("type"), str) else None
    if layer_type is None:
        return f"unknown layer type {layer.get('type')!r}"
    try:
        full = _with_defaults(layer)
        if any(spec.check(full[spec.name]) for spec in layer_type.params):
            raise ValueError
        return layer_type.formula(full, tuple(input_shape) if input_shape is not None else None)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return layer_type.formula({}, None)
