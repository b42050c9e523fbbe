"""Export a built network: ONNX with CNN Studio's metadata, and a standalone PyTorch source file.

The ONNX file has one input ``input`` (N, C, H, W) with a dynamic batch, the output ``logits`` and,
for localization, ``bbox``. Its ``metadata_props`` are :meth:`ModelMeta.to_props` of the spec
(class names, input shape, preprocessing, the spec itself), so any runner can use it alone.
PyTorch's TorchScript-based exporter (``dynamo=False``) is used: for these small static graphs it
takes about 0.1 s where the ``torch.export``-based one takes about 3 s (and starts a progress thread
and prints to stdout); the trainer exports at the end of every run.

ONNX's ``ceil_mode`` pooling is not PyTorch's (PyTorch drops a last window that would start in the right
padding, and divides a partial average window differently), so ceil-mode pooling layers are exported
as explicit padding followed by floor-mode pooling that computes exactly what PyTorch computes. Every
export is checked: ONNX Runtime must load it and match PyTorch on a seeded random batch before the file
is written (atomically), so a wrong or broken model never reaches the target path.
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnstudio.core.errors import UserError, first_line
from cnnstudio.core.fileio import atomic_write_bytes
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.ml.codegen import export_torch_code, torch_source

__all__ = [
    "MIN_OPSET", "export_onnx", "export_torch_code", "latest_checkpoint", "load_export_source", "onnx_parity",
    "output_names", "torch_source",
]

MIN_OPSET = 17


def output_names(spec: dict) -> list[str]:
    """The model's outputs by name, from the task registry (classification: logits; localization: + bbox)."""
    from cnnstudio.core.tasks import task_of

    return list(task_of(spec).outputs)


def _legacy_export(model, dummy, path: Path, outputs: list[str], opset: int) -> None:
    dynamic = {"input": {0: "batch"}, **{name: {0: "batch"} for name in outputs}}
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["input"],
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=opset,
        do_constant_folding=True,
        dynamo=False,
    )


def export_onnx(model: torch.nn.Module, spec: dict, path: str | os.PathLike, opset: int = MIN_OPSET) -> Path:
    """Write ``model`` as ONNX to ``path`` (atomically) with the spec's metadata; returns the path.

    Raises UserError (and writes nothing) when ONNX Runtime cannot load the result or it does not
    compute what the PyTorch model computes.
    """
    import onnx

    if opset < MIN_OPSET:
        raise UserError(f"ONNX export needs opset {MIN_OPSET} or newer (asked for {opset}).")
    from torch.onnx import _constants  # private, hence the fallback: without it torch's error says it

    max_opset = getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", opset)
    if opset > max_opset:
        raise UserError(f"This PyTorch exports ONNX up to opset {max_opset} (asked for {opset}).")
    target = Path(path)
    outputs = output_names(spec)
    c, h, w = (int(spec["input"][k]) for k in ("channels", "height", "width"))
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        traced = onnx_exact_copy(model, spec)
        with tempfile.TemporaryDirectory(prefix="cnnstudio-onnx-") as tmp:
            raw = Path(tmp) / "model.onnx"
            dummy = torch.zeros(2, c, h, w, device=device)
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                _legacy_export(traced, dummy, raw, outputs, opset)
            proto = onnx.load(str(raw))
        del proto.metadata_props[:]
        from cnnstudio.core.tasks import task_of

        props = {**ModelMeta.from_spec(spec).to_props(), **task_of(spec).model_props(spec)}  # + e.g. decoding
        for key, value in props.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.producer_name = "CNN Studio"
        onnx.checker.check_model(proto)
        data = proto.SerializeToString()
        _check_parity(model, data, target.name)
    finally:
        model.train(was_training)
    atomic_write_bytes(target, data)
    return target


def onnx_parity(model: torch.nn.Module, path: str | os.PathLike | bytes, batch: int = 4, seed: int = 0) -> float:
    """Largest absolute difference between ONNX Runtime and torch on a seeded random batch.

    ``path`` is an ONNX file or its bytes. A model ONNX Runtime cannot load is a UserError.
    """
    return _parity(model, path, batch, seed)[0]


def _parity(model: torch.nn.Module, path: str | os.PathLike | bytes, batch: int, seed: int):
    """(largest difference, the torch outputs) of :func:`onnx_parity`."""
    import onnxruntime as ort

    from cnnstudio.ml.onnx_model import ort_load_error

    source = path if isinstance(path, bytes) else str(path)
    name = "the model" if isinstance(path, bytes) else Path(path).name
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UserError(ort_load_error(Path(name), exc).rstrip(".")) from None
    shape = session.get_inputs()[0].shape
    spec = getattr(model, "spec", None)
    if spec is not None:
        c, h, w = (int(spec["input"][k]) for k in ("channels", "height", "width"))
    else:
        c, h, w = (int(d) for d in shape[1:])
    x = np.random.default_rng(seed).standard_normal((batch, c, h, w)).astype(np.float32)
    try:
        got = session.run(None, {session.get_inputs()[0].name: x})
    except Exception as exc:
        first = first_line(exc)
        raise UserError(f"ONNX Runtime cannot run {name}: {first}") from None
    expected = _torch_outputs(model, x)
    if len(expected) != len(got):
        raise UserError(f"The ONNX model has {len(got)} outputs but the network has {len(expected)}.")
    worst = 0.0
    for e, g in zip(expected, got):
        if e.shape != g.shape:
            raise UserError(f"The ONNX model computes outputs of shape {list(g.shape)} where the network "
                            f"computes {list(e.shape)}.")
        worst = max(worst, float(np.max(np.abs(e - g))) if e.size else 0.0)
    return worst, expected


def _torch_outputs(model: torch.nn.Module, x: np.ndarray) -> list[np.ndarray]:
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.from_numpy(x).to(device))
    finally:
        model.train(was_training)
    out = out if isinstance(out, tuple) else (out,)
    return [o.detach().float().cpu().numpy() for o in out]


def _check_parity(model: torch.nn.Module, data: bytes, name: str) -> None:
    """UserError unless ONNX Runtime computes what ``model`` computes (relative to the outputs' size)."""
    try:
        diff, expected = _parity(model, data, batch=2, seed=0)
    except UserError as exc:
        raise UserError(f"The ONNX export of {name} is not usable ({exc}); nothing was written.") from None
    scale = max([1.0, *(float(np.max(np.abs(o))) for o in expected if o.size)])
    if not diff <= 1e-3 * scale:  # also catches NaN
        raise UserError(f"The ONNX export of {name} does not compute what the PyTorch network computes "
                        f"(largest difference {diff:.3g}); nothing was written.")


# --- layers ONNX computes differently: exact replacements for the export -----------------------------
def _ceil_pads(size: int, kernel: int, stride: int, padding: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding that makes floor-mode pooling give PyTorch's ceil-mode windows.

    ``after`` may be negative: the input's last elements, which no window reaches, are cut off.
    """
    from cnnstudio.core.registry import pool_output_size

    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode=True)
    span = dilation * (kernel - 1) + 1
    return padding, (out - 1) * stride + span - size - padding


def _pad_or_cut(x: torch.Tensor, pads_h: tuple[int, int], pads_w: tuple[int, int], value: float) -> torch.Tensor:
    (top, bottom), (left, right) = pads_h, pads_w
    if bottom < 0:
        x = x[:, :, : x.shape[2] + bottom]
    if right < 0:
        x = x[..., : x.shape[3] + right]
    pads = (left, max(0, right), top, max(0, bottom))
    return F.pad(x, pads, value=value) if any(pads) else x


class ExactCeilMaxPool2d(nn.Module):
    """PyTorch's ceil-mode max (or min) pooling as explicit -inf padding and floor-mode pooling."""

    def __init__(self, kernel, stride, dilation, pads_h, pads_w, negate: bool = False):
        super().__init__()
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.pads_h, self.pads_w, self.negate = pads_h, pads_w, negate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.negate:
            x = -x
        x = _pad_or_cut(x, self.pads_h, self.pads_w, float("-inf"))
        y = F.max_pool2d(x, self.kernel, self.stride, 0, self.dilation, ceil_mode=False)
        return -y if self.negate else y


class ExactCeilAvgPool2d(nn.Module):
    """PyTorch's ceil-mode average pooling: window sums over explicit zero padding, divided by the
    number of values PyTorch counts in each window (padding counted only when ``count_include_pad``,
    and never beyond it)."""

    def __init__(self, kernel, stride, padding, size, pads_h, pads_w, count_include_pad: bool):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.pads_h, self.pads_w = pads_h, pads_w
        counts = []
        for n, k, s, p, (_, after) in zip(size, kernel, stride, padding, (pads_h, pads_w)):
            out = (n + p + after - k) // s + 1
            starts = np.arange(out) * s - p
            ends = np.minimum(starts + k, n + p)
            if not count_include_pad:
                starts, ends = np.maximum(starts, 0), np.minimum(ends, n)
            counts.append((ends - starts).astype(np.float32))
        divisor = np.outer(counts[0], counts[1])[None, None]
        self.register_buffer("scale", torch.from_numpy(float(kernel[0] * kernel[1]) / divisor), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _pad_or_cut(x, self.pads_h, self.pads_w, 0.0)
        return F.avg_pool2d(x, self.kernel, self.stride, 0, ceil_mode=False) * self.scale.to(x.dtype)


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class ExplicitSameConv2d(nn.Module):
    """A ``padding="same"`` convolution as explicit padding and an unpadded convolution (the same
    weights): ONNX Runtime runs no dilated convolution with ``auto_pad`` SAME, and the padding of an
    even kernel is one-sided."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.conv = conv
        self.pads = tuple(int(v) for v in conv._reversed_padding_repeated_twice)
        self.mode = "constant" if conv.padding_mode == "zeros" else conv.padding_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        if any(self.pads):
            x = F.pad(x, self.pads, mode=self.mode)
        return F.conv2d(x, c.weight, c.bias, c.stride, 0, c.dilation, c.groups)


def _exact_module(module: nn.Module, input_shape) -> nn.Module | None:
    """The export-exact replacement of a module ONNX would compute differently, or None (most)."""
    if isinstance(module, nn.Conv2d) and module.padding == "same":
        return ExplicitSameConv2d(module)
    if not isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)) or not module.ceil_mode or len(input_shape) != 3:
        return None
    size = (int(input_shape[1]), int(input_shape[2]))
    kernel, stride, padding = _pair(module.kernel_size), _pair(module.stride), _pair(module.padding)
    if isinstance(module, nn.MaxPool2d):
        dilation = _pair(module.dilation)
        pads = [_ceil_pads(n, k, s, p, d) for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)]
        from cnnstudio.ml.builder import MinPool2d

        return ExactCeilMaxPool2d(kernel, stride, dilation, pads[0], pads[1], negate=isinstance(module, MinPool2d))
    if module.divisor_override:
        return None
    pads = [_ceil_pads(n, k, s, p, 1) for n, k, s, p in zip(size, kernel, stride, padding)]
    return ExactCeilAvgPool2d(kernel, stride, padding, size, pads[0], pads[1], bool(module.count_include_pad))


def onnx_exact_copy(model: torch.nn.Module, spec: dict) -> torch.nn.Module:
    """``model``, or a copy of it whose ceil-mode pooling and "same" convolutions compute PyTorch's
    result in ONNX too (the copy's convolutions share the model's weights)."""
    from cnnstudio.core.inference import infer

    layers = getattr(model, "layers", None)
    if not isinstance(layers, nn.ModuleDict):
        return model
    summary = getattr(model, "summary", None) or infer(getattr(model, "spec", spec))
    shapes = {info.id: info.input_shape for info in summary.all_layers}
    replaced = {}
    for branch in (layers, getattr(model, "box_head", None) or {}):
        for layer_id, module in branch.items():
            exact = _exact_module(module, shapes.get(layer_id) or ())
            if exact is not None:
                replaced[layer_id] = exact
    if not replaced:
        return model
    device = next((t.device for t in model.parameters()), torch.device("cpu"))
    twin = copy.deepcopy(model)
    for branch in (twin.layers, getattr(twin, "box_head", None) or {}):
        for layer_id in list(branch.keys()):
            if layer_id in replaced:
                branch[layer_id] = replaced[layer_id].to(device)
    return twin


def latest_checkpoint(run_dir: str | os.PathLike) -> Path:
    """The checkpoint holding a run's final weights (``last.pt`` by name; see run_folder.latest_checkpoint)."""
    from cnnstudio.ml.run_folder import latest_checkpoint as latest

    return latest(run_dir)


def load_state_dict_file(path: str | os.PathLike) -> dict:
    """A state dict from a checkpoint (the one loader, ``weights_only=True``: run_folder.load_checkpoint)."""
    from cnnstudio.ml.run_folder import load_checkpoint

    return load_checkpoint(path)["model"]


def load_export_source(source: str | os.PathLike, seed: int = 0, checkpoint: str | None = None):
    """``(spec, model, origin)`` for export: a run folder's checkpoint, or a spec with seeded weights."""
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    folder = Path(source)
    if folder.is_dir():
        if not (folder / "spec.json").is_file():
            raise UserError(f"The folder {folder} is not a training run (it has no spec.json).")
        spec = load_spec(folder / "spec.json")
        model = build_model(spec)
        ckpt = folder / "checkpoints" / checkpoint if checkpoint else latest_checkpoint(folder)
        state = load_state_dict_file(ckpt)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = first_line(exc, 200, "mismatch")
            raise UserError(f"The checkpoint {ckpt} does not fit the run's network ({first}).") from None
        return spec, model.eval(), f"weights of {ckpt.name}"
    if checkpoint:
        raise UserError("--checkpoint applies to a training run folder, not to a spec.")
    spec = load_spec(source)
    if not -(2**63) <= seed < 2**64:  # what torch.manual_seed takes
        raise UserError(f"The seed {seed} is out of range; use a number from 0 to {2**63 - 1:,}.")
    torch.manual_seed(seed)
    model = build_model(spec).eval()
    return spec, model, f"fresh weights, seed {seed}"
