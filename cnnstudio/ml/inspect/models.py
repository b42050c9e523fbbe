"""One interface over the models Inspect can open: our PyTorch models (a spec, template or run) and any
ONNX image model (ours, the bundled one, or another tool's).

:class:`InspectModel` answers the questions the views ask: which activations exist, what they are for an
input, what the model predicts, which conv kernels it has and what its penultimate-layer embedding is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.ml.inspect.features import OnnxFeatures, TensorInfo, capture_torch, torch_layer_modules

BUNDLED_MODEL_NAME = "lenet5-digits.onnx"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")


@dataclass(frozen=True)
class Analysis:
    """What one input produces: activations by name (no batch dim), class probabilities, a box or None."""

    features: dict[str, np.ndarray]
    probabilities: np.ndarray
    bbox: tuple[float, float, float, float] | None = None
    objects: np.ndarray | None = None  # a detector's (M, 6) x, y, w, h, score, class
    mask: np.ndarray | None = None  # a segmenter's class per pixel (h, w)

    @property
    def decoded(self):
        """The prediction as the task registry's :class:`cnnstudio.ml.tasks.Decoded` (for its overlay)."""
        from cnnstudio.ml.tasks import Decoded

        if self.objects is not None:
            return Decoded(np.asarray(self.probabilities)[None], None, (self.objects,))
        if self.mask is not None:
            return Decoded(np.asarray(self.probabilities)[None], None, None, self.mask[None])
        boxes = None if self.bbox is None else np.asarray([self.bbox], np.float32)
        return Decoded(np.asarray(self.probabilities)[None], boxes)

    def top(self, meta: ModelMeta, k: int = 5) -> list[tuple[int, str, float]]:
        order = np.argsort(-self.probabilities)[: max(1, k)]
        return [(int(i), meta.class_name(int(i)), float(self.probabilities[i])) for i in order]


@dataclass
class InspectModel:
    """A model opened for inspection. ``torch_model`` is set for PyTorch models (saliency needs it)."""

    title: str
    meta: ModelMeta
    tensors: list[TensorInfo]
    torch_model: Any = None
    onnx: OnnxFeatures | None = None
    spec: dict | None = None
    run_dir: Path | None = None
    note: str = ""
    source: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    _kind: str = field(default="torch")

    @property
    def kind(self) -> str:
        return self._kind

    # --- inputs --------------------------------------------------------------------------------
    def prepare_image(self, image: np.ndarray) -> np.ndarray:
        """A natural uint8 image (file, camera) -> the (1, C, H, W) float32 network input."""
        from cnnstudio.ml.preprocess import to_model_input

        return to_model_input(image, self.meta)

    def prepare_samples(self, x01: Any) -> np.ndarray:
        """Dataset samples (N, C, H, W) in [0, 1] (already in network space) -> normalised network input."""
        from cnnstudio.ml.preprocess import normalize

        arr = x01.detach().cpu().numpy() if hasattr(x01, "detach") else np.asarray(x01)
        return np.ascontiguousarray(normalize(arr.astype(np.float32), self.meta.preprocess), dtype=np.float32)

    # --- running -------------------------------------------------------------------------------
    def analyse(self, x: np.ndarray, names: list[str] | None = None) -> Analysis:
        """Activations (all, or ``names``) and the prediction for one (1, C, H, W) input, in one pass."""
        if self.onnx is not None:
            values = self.onnx.run(x, names)
            decoded = _decoded_outputs(values, self.onnx.output_names)
            feats = {t.name: values[t.name][0] for t in self.tensors if t.name in values and (names is None or t.name in names)}
        else:
            feats, output = capture_torch(self.torch_model, x, names)
            decoded = _decoded_torch(output, self.meta.task)
        objects = decoded.objects_of(0) if decoded.objects is not None else None
        bbox = _box(decoded.boxes) if decoded.boxes is not None else decoded.box(0)
        mask = decoded.masks[0] if decoded.masks is not None else None
        return Analysis(feats, decoded.probabilities[0], bbox, objects, mask)

    def predict_batch(self, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
        """Class probabilities (N, K) and boxes (N, 4) or None for a normalised (N, C, H, W) batch."""
        probs, boxes = [], []
        for start in range(0, len(x), batch_size):
            chunk = np.ascontiguousarray(x[start : start + batch_size], dtype=np.float32)
            if self.onnx is not None:
                values = self.onnx.run(chunk, [])
                p, b = _prediction_from_outputs(values, self.onnx.output_names)
            else:
                import torch

                with torch.inference_mode():
                    p, b = _torch_prediction(self.torch_model(torch.from_numpy(chunk)), self.meta.task)
            probs.append(p)
            if b is not None:
                boxes.append(np.asarray(b, np.float32))
        all_probs = np.concatenate(probs) if probs else np.zeros((0, len(self.meta.class_names)), np.float32)
        return all_probs, (np.concatenate(boxes) if boxes else None)

    def embed_batch(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Penultimate-layer embeddings (N, D) of a normalised (N, C, H, W) batch."""
        from cnnstudio.ml.inspect.embeddings import embed

        return embed(self, x, batch_size)

    def conv_kernels(self) -> dict[str, np.ndarray]:
        """Every conv layer's weight (out, in, kh, kw) by layer id / output tensor name, in graph order."""
        if self.onnx is not None:
            return self.onnx.conv_weights()
        from cnnstudio.ml.inspect.kernels import torch_conv_weights

        return torch_conv_weights(self.torch_model)

    def label(self, name: str) -> str:
        """A short label for an activation: our layer id when an ONNX tensor came from one ("/c1/Conv_output_0" -> "c1")."""
        return self.labels.get(name, name)

    def resolve(self, name: str) -> str:
        """The activation name for a tensor name or layer-id label (a UserError listing the names if none)."""
        for t in self.tensors:
            if t.name == name:
                return t.name
        for t in self.tensors:
            if self.labels.get(t.name) == name:
                return t.name
        known = ", ".join(self.label(n) for n in self.layer_names())
        raise UserError(f"The model has no layer or tensor named {name!r}; it has {known}.")

    def tensor(self, name: str) -> TensorInfo:
        resolved = self.resolve(name)
        return next(t for t in self.tensors if t.name == resolved)

    def layer_names(self) -> list[str]:
        return [t.name for t in self.tensors]

    def first_conv(self) -> str | None:
        """The first convolution's activation name (the default view), else the first spatial one."""
        for t in self.tensors:
            if t.op in ("Conv", "Conv2d") and t.spatial:
                return t.name
        for t in self.tensors:
            if t.spatial:
                return t.name
        return self.tensors[0].name if self.tensors else None


# --- opening ---------------------------------------------------------------------------------------
def from_torch(model: Any, spec: dict | None = None, meta: ModelMeta | None = None, title: str = "", **kw) -> InspectModel:
    """Wrap a PyTorch model (ours: ``model.layers`` by id) for inspection."""
    from cnnstudio.ml.inspect.features import torch_tensor_infos

    if meta is None:
        if spec is None:
            raise UserError("A PyTorch model needs its network spec to be inspected.")
        meta = ModelMeta.from_spec(spec)
    model.eval()
    tensors = torch_tensor_infos(model, meta.input_shape)
    return InspectModel(title=title or meta.name or "PyTorch model", meta=meta, tensors=tensors,
                        torch_model=model, spec=spec, **kw)


def from_spec(spec_source: Any, seed: int = 0, title: str = "") -> InspectModel:
    """A freshly initialised (seeded, untrained) model built from a spec dict, file or template name."""
    import torch

    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    spec = load_spec(spec_source)
    torch.manual_seed(seed)
    model = build_model(spec)
    name = spec.get("name") or "network"
    return from_torch(model, spec, title=title or f"{name} (untrained)", source=str(spec_source) if not isinstance(spec_source, dict) else "")


def from_run(run_dir: str | Path, checkpoint: Any = None, title: str = "") -> InspectModel:
    """The trained model of a run folder (its last checkpoint, or ``checkpoint``)."""
    from cnnstudio.ml.runs import load_run_model

    run_dir = Path(run_dir)
    spec, model = load_run_model(run_dir, checkpoint)
    model.eval()
    return from_torch(model, spec, title=title or f"run {run_dir.name}", run_dir=run_dir, source=str(run_dir))


def from_onnx(path: str | Path, title: str = "") -> InspectModel:
    """Any ONNX image model; ours carry metadata, others are read from the graph (input shape)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"The model file {path} does not exist.")
    onnx = OnnxFeatures(path)
    in_shape = list(onnx.input_shape)
    if len(in_shape) == 4 and in_shape[0] is None:
        in_shape[0] = 1
    first_out = next((t for t in _graph_outputs(onnx)), None)
    num_out = first_out[-1] if first_out and isinstance(first_out[-1], int) else None
    meta = ModelMeta.from_props(onnx.props, in_shape, num_out)
    tensors = [t for t in onnx.tensors if t.name not in onnx.output_names or len(t.shape) == 3]
    if not tensors:
        raise UserError(f"{path.name} has no intermediate tensors to inspect.")
    return InspectModel(title=title or meta.name or path.name, meta=meta, tensors=tensors, onnx=onnx,
                        spec=meta.spec, source=str(path), labels=_layer_labels(tensors, meta.spec), _kind="onnx")


def _layer_labels(tensors: list[TensorInfo], spec: dict | None) -> dict[str, str]:
    """Tensor name -> layer id for exports of our specs (the exporters name tensors after the module path)."""
    ids = [str(layer.get("id")) for layer in (spec or {}).get("layers", []) if isinstance(layer, dict)]
    if not ids:
        return {}
    labels: dict[str, str] = {}
    used: set[str] = set()
    for t in tensors:
        parts = [p for p in re.split(r"[/.:]", t.name) if p]
        hit = next((p for p in parts if p in ids and p not in used), None)
        if hit is None and t.name in ids and t.name not in used:
            hit = t.name
        if hit is not None:
            labels[t.name] = hit
            used.add(hit)
    return labels


def open_model(source: str | Path | dict) -> InspectModel:
    """A spec dict, template name, spec JSON file, run folder or .onnx file, opened for inspection."""
    if isinstance(source, dict):
        return from_spec(source)
    path = Path(source)
    if path.suffix.lower() == ".onnx":
        return from_onnx(path)
    if path.is_dir():
        return from_run(path)
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        raise UserError(f"{path.name} is an image, not a model: give an .onnx file, a network spec (.json), "
                        "a template name or a training run folder.")
    if path.name == "spec.json" and (path.parent / "checkpoints").is_dir():
        return from_run(path.parent)  # a run folder's spec: its trained weights, not a fresh network
    if path.suffix.lower() == ".json" or path.exists():
        return from_spec(path)
    return from_spec(str(source))  # a template name; load_spec says clearly when it is unknown


def bundled_model_path() -> Path:
    from cnnstudio.core.paths import models_dir

    return models_dir() / BUNDLED_MODEL_NAME


def open_bundled(fallback_spec: dict | None = None) -> InspectModel:
    """The bundled trained LeNet-5; when its file is missing, an untrained LeNet-5 built from
    ``fallback_spec`` (the project's network) with a note saying so."""
    path = bundled_model_path()
    if path.is_file():
        return from_onnx(path, title="Bundled LeNet-5 (digits)")
    note = (f"The bundled model {path.name} is missing from {path.parent}; showing an untrained network "
            "built from the project's spec instead.")
    model = from_spec(fallback_spec if fallback_spec is not None else "lenet5")
    model.note = note
    return model


# --- predictions from raw outputs --------------------------------------------------------------------
def _graph_outputs(onnx: OnnxFeatures):
    for out in onnx.session.get_outputs():
        if out.name in onnx.output_names:
            yield out.shape


def _decoded_outputs(values: dict[str, np.ndarray], output_names: list[str]):
    """An ONNX model's outputs decoded by the task they belong to (:class:`cnnstudio.ml.tasks.Decoded`)."""
    from cnnstudio.ml.tasks import runtime_for_outputs

    return runtime_for_outputs(output_names).decode({n: values[n] for n in output_names if n in values})


def _decoded_torch(output: Any, task: str):
    """A torch model's output decoded by its task (:class:`cnnstudio.ml.tasks.Decoded`)."""
    from cnnstudio.ml.tasks import as_outputs, runtime_of_model

    return runtime_of_model(task).decode_outputs(as_outputs(output))


def _prediction_from_outputs(values: dict[str, np.ndarray], output_names: list[str]):
    """(probabilities, boxes or None) of an ONNX model's outputs, decoded by the task they belong to."""
    decoded = _decoded_outputs(values, output_names)
    return decoded.probabilities, decoded.boxes


def _torch_prediction(output: Any, task: str):
    """(probabilities, boxes or None) of a torch model's output, decoded by its task."""
    decoded = _decoded_torch(output, task)
    return decoded.probabilities, decoded.boxes


def _box(boxes: np.ndarray | None) -> tuple[float, float, float, float] | None:
    if boxes is None:
        return None
    return tuple(float(v) for v in np.asarray(boxes)[0][:4])  # type: ignore[return-value]


def layer_modules(model: InspectModel) -> dict[str, Any]:
    return torch_layer_modules(model.torch_model) if model.torch_model is not None else {}
