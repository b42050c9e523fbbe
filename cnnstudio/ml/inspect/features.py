"""Intermediate activations ("feature maps") of a model, by layer id or ONNX tensor name.

Our PyTorch models keep their layers in ``model.layers`` (an ``nn.ModuleDict`` keyed by layer id), so one
forward pass with forward hooks gives every layer's output and the logits together. Any ONNX image model
is inspected by turning its intermediate tensors into extra graph outputs (after ONNX shape inference),
so ONNX Runtime returns them all in one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.onnx_model import accepted_input, ort_load_error


@dataclass(frozen=True)
class TensorInfo:
    """One inspectable activation: a layer id (ours) or a tensor name (ONNX), its op and its shape.

    ``shape`` has no batch dimension; unknown sizes are None.
    """

    name: str
    op: str
    shape: tuple[int | None, ...]

    @property
    def spatial(self) -> bool:
        """True for (C, H, W) activations with H, W > 1 or unknown (a map to draw as a grid)."""
        return len(self.shape) == 3 and all(d is None or d > 1 for d in self.shape[1:])

    @property
    def shape_text(self) -> str:
        return "×".join("?" if d is None else str(d) for d in self.shape)


# --- PyTorch ---------------------------------------------------------------------------------------
def torch_layer_modules(model: Any) -> dict[str, Any]:
    """The model's layers by id (``model.layers``), or {} when it has no ModuleDict of layers."""
    layers = getattr(model, "layers", None)
    try:
        return dict(layers.items()) if layers is not None else {}
    except AttributeError:
        return {}


def capture_torch(model: Any, x: Any, ids: list[str] | None = None) -> tuple[dict[str, np.ndarray], Any]:
    """Run ``model`` on ``x`` (a (1, C, H, W) array or tensor) once; return ({id: activation}, output).

    Activations are numpy arrays without the batch dimension. ``ids`` limits the capture (None = all).
    Models without ``model.layers`` but with ``forward_features(x, ids)`` work too.
    """
    import torch

    tensor = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not isinstance(x, torch.Tensor) else x
    device = _model_device(model)
    tensor = tensor.to(device)
    layers = torch_layer_modules(model)
    captured: dict[str, Any] = {}
    with torch.inference_mode():
        if layers:
            handles = []
            wanted = set(layers) if ids is None else set(ids)
            unknown = wanted - set(layers)
            if unknown:
                raise UserError(f"The model has no layer named {', '.join(sorted(unknown))}.")
            for name, module in layers.items():
                if name in wanted:
                    handles.append(module.register_forward_hook(_store(captured, name)))
            try:
                output = model(tensor)
            finally:
                for handle in handles:
                    handle.remove()
            captured = {name: captured[name] for name in layers if name in captured}
        elif hasattr(model, "forward_features"):
            captured = dict(model.forward_features(tensor, ids))
            output = model(tensor)
        else:
            raise UserError("This PyTorch model exposes no layers to inspect (no model.layers).")
    return {name: _to_numpy(value)[0] for name, value in captured.items()}, output


def torch_tensor_infos(model: Any, input_shape: tuple[int, int, int]) -> list[TensorInfo]:
    """Every layer's id, type and output shape, from one forward pass on zeros."""
    import torch

    feats, _ = capture_torch(model, torch.zeros((1, *input_shape)))
    layers = torch_layer_modules(model)
    infos = []
    for name, value in feats.items():
        module = layers.get(name)
        op = type(module).__name__ if module is not None else "layer"
        infos.append(TensorInfo(name, op, tuple(int(d) for d in value.shape)))
    return infos


def _store(target: dict, name: str):
    def hook(_module, _inputs, output):
        target[name] = output[0] if isinstance(output, (tuple, list)) else output

    return hook


def _to_numpy(value: Any) -> np.ndarray:
    return value.detach().float().cpu().numpy()


def _model_device(model: Any):
    import torch

    for p in model.parameters():
        return p.device
    return torch.device("cpu")


# --- ONNX ------------------------------------------------------------------------------------------
_FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_SKIP_OPS = {"Constant", "Shape", "ConstantOfShape", "Range", "Size"}  # (float tensors only are listed anyway)


class OnnxFeatures:
    """An ONNX model whose intermediate float tensors are exposed as extra outputs.

    ``tensors`` lists them in graph order (name, producing op, shape without batch); ``run(batch)`` returns
    every output, original ones included. ``output_names`` are the model's own outputs.
    """

    def __init__(self, path: str | Path, providers: list[str] | None = None):
        import onnx
        import onnxruntime as ort

        self.path = Path(path)
        try:
            model = onnx.load(str(self.path))
        except Exception as exc:
            raise UserError(f"{self.path.name} is not an ONNX model that can be read ({_first_line(exc)}).") from None
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
        except Exception:
            inferred = model  # shape inference is best effort; tensors without a known type are skipped
        graph = inferred.graph
        initializers = {i.name for i in graph.initializer}
        inputs = [i for i in graph.input if i.name not in initializers]
        options = ort.SessionOptions()
        options.log_severity_level = 3
        chosen = providers or ["CPUExecutionProvider"]
        try:  # the model as it is first: what it accepts is checked before anything else
            plain = ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=chosen)
        except Exception as exc:
            raise UserError(ort_load_error(self.path, exc)) from None
        self.input_name, self.graph_shape = accepted_input(plain.get_inputs(), self.path.name)
        del plain
        self.output_names = [o.name for o in graph.output]
        self.props = {p.key: p.value for p in model.metadata_props}
        self.input_shape = _dims(next(i for i in inputs if i.name == self.input_name))
        self.initializers = {i.name: i for i in graph.initializer}
        known = {v.name: v for v in list(graph.value_info) + list(graph.output)}
        self.tensors: list[TensorInfo] = []
        extra = []
        producers: dict[str, str] = {}
        constant = set(initializers)  # tensors that do not depend on the image (weights and their copies)
        for node in graph.node:
            for out in node.output:
                if out:
                    producers[out] = node.op_type
            if all(not name or name in constant for name in node.input):
                constant.update(out for out in node.output if out)  # Identity of a weight, Constant, ...
                continue
            if node.op_type in _SKIP_OPS:
                continue
            for out in node.output:
                info = known.get(out)
                if not out or info is None or info.type.tensor_type.elem_type not in _FLOAT_TYPES:
                    continue
                dims = _dims(info)
                if not dims:
                    continue
                self.tensors.append(TensorInfo(out, node.op_type, tuple(dims[1:]) if len(dims) > 1 else tuple(dims)))
                if out not in self.output_names:
                    extra.append(info)
        self.producers = producers
        self.nodes = list(graph.node)
        exposed = onnx.ModelProto()
        exposed.CopyFrom(model)
        exposed.graph.output.extend(extra)
        try:
            self.session = ort.InferenceSession(exposed.SerializeToString(), sess_options=options, providers=chosen)
        except Exception as exc:
            raise UserError(ort_load_error(self.path, exc)) from None
        self._all_outputs = [o.name for o in self.session.get_outputs()]

    def run(self, batch: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """All outputs (or the named ones plus the model's own outputs) for a float32 (N, C, H, W) batch."""
        wanted = None
        if names is not None:
            unknown = set(names) - set(self._all_outputs)
            if unknown:
                raise UserError(f"The model has no tensor named {', '.join(sorted(unknown))}.")
            wanted = list(dict.fromkeys([*self.output_names, *names]))
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        names_out = wanted or self._all_outputs
        if self.input_shape and self.input_shape[0] == 1 and len(batch) > 1:  # exported with a fixed batch of 1
            parts = [self.session.run(wanted, {self.input_name: batch[i : i + 1]}) for i in range(len(batch))]
            return {n: np.concatenate([p[k] for p in parts]) for k, n in enumerate(names_out)}
        values = self.session.run(wanted, {self.input_name: batch})
        return dict(zip(names_out, values))

    def conv_weights(self) -> dict[str, np.ndarray]:
        """The weight of every Conv node, keyed by the node's output tensor name (ONNX initializers)."""
        from onnx import numpy_helper

        out = {}
        for node in self.nodes:
            if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in self.initializers:
                out[node.output[0]] = numpy_helper.to_array(self.initializers[node.input[1]]).astype(np.float32)
        return out

    def penultimate_tensor(self) -> str | None:
        """The tensor feeding the last Gemm/MatMul node (the embedding a classifier's head reads)."""
        for node in reversed(self.nodes):
            if node.op_type in ("Gemm", "MatMul") and node.input:
                name = node.input[0]
                if name in self._all_outputs:
                    return name
                return None
        return None


def _dims(value_info: Any) -> list[int | None]:
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else None for d in shape.dim]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
