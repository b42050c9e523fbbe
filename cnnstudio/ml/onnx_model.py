"""An ONNX image model run with ONNX Runtime, with what its metadata says (ours or another tool's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.ml.preprocess import to_model_input
from cnnstudio.ml.tasks import runtime_for_outputs

PROVIDER_LABELS = {
    "CUDAExecutionProvider": "CUDA",
    "TensorrtExecutionProvider": "TensorRT",
    "CoreMLExecutionProvider": "CoreML",
    "DmlExecutionProvider": "DirectML",
    "CPUExecutionProvider": "CPU",
}


def available_providers() -> list[str]:
    """ONNX Runtime execution providers usable here, best first (CPU always last)."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    order = ["CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider", "CPUExecutionProvider"]
    return [p for p in order if p in have]


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray  # (classes,)
    top: list[tuple[int, str, float]]  # (index, name, probability), best first
    bbox: tuple[float, float, float, float] | None = None  # x, y, w, h normalised to the image
    objects: np.ndarray | None = None  # a detector's (M, 6) x, y, w, h, score, class; best first
    mask: np.ndarray | None = None  # a segmenter's class per pixel of the model input, uint8 (h, w)

    @property
    def label(self) -> str:
        return self.top[0][1] if self.top else ""

    @property
    def confidence(self) -> float:
        return self.top[0][2] if self.top else 0.0


class OnnxModel:
    """A loaded ONNX image model. ``providers`` defaults to CPU (the safe, fast choice for small nets)."""

    def __init__(self, path: str | Path, providers: list[str] | None = None, threads: int | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"The model file {self.path} does not exist.")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        chosen = providers or ["CPUExecutionProvider"]
        if "CPUExecutionProvider" not in chosen:
            chosen = [*chosen, "CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(self.path), sess_options=options, providers=chosen)
        except Exception as exc:
            raise UserError(ort_load_error(self.path, exc)) from None
        self.input_name, graph_shape = accepted_input(self.session.get_inputs(), self.path.name)
        self.output_names = [o.name for o in self.session.get_outputs()]
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        first_out = self.session.get_outputs()[0].shape
        num_out = first_out[-1] if first_out and isinstance(first_out[-1], int) else None
        self.meta = ModelMeta.from_props(props, graph_shape, num_out)

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self.session.run(None, {self.input_name: batch})
        return dict(zip(self.output_names, outputs))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        return to_model_input(image, self.meta)

    def predict_batch(self, batch: np.ndarray, k: int = 5) -> list[Prediction]:
        outputs = self.run(batch)
        decoded = runtime_for_outputs(self.output_names).decode(outputs)  # the one decoding (ml.tasks)
        result = []
        for i, p in enumerate(decoded.probabilities):
            order = np.argsort(-p)[: max(1, k)]
            top = [(int(j), self.meta.class_name(int(j)), float(p[j])) for j in order]
            objects = decoded.objects_of(i) if decoded.objects is not None else None
            mask = decoded.masks[i] if decoded.masks is not None else None
            result.append(Prediction(p, top, decoded.box(i), objects, mask))  # type: ignore[arg-type]
        return result

    def predict_image(self, image: np.ndarray, k: int = 5) -> Prediction:
        return self.predict_batch(self.prepare(image), k)[0]


def accepted_input(inputs, name: str) -> tuple[str, list[int]]:
    """The one check of what CNN Studio can feed a model, used by predict, live, features, Inspect
    and Live: ``inputs`` are ONNX Runtime's ``session.get_inputs()``. Returns the input's name and its
    shape (N, C, H, W) with a dynamic batch as 1; a model it cannot feed is a UserError that says why.

    CNN Studio feeds one float32 image batch, channels first (N x C x H x W), with 1 or 3 channels of a
    fixed size, batch 1 or dynamic.
    """
    if len(inputs) != 1:
        raise UserError(f"{name} takes {len(inputs)} inputs; CNN Studio runs image models with one "
                        "(an N x C x H x W image batch).")
    inp = inputs[0]
    if inp.type != "tensor(float)":
        kind = inp.type.removeprefix("tensor(").removesuffix(")")
        raise UserError(f"{name} takes {kind} input; CNN Studio feeds 32-bit float images (tensor(float)).")
    dims = [d if isinstance(d, int) and d > 0 else None for d in (inp.shape or [])]
    if len(dims) != 4:
        raise UserError(f"{name}'s input has shape {list(inp.shape or [])}; an image model takes N x C x H x W.")
    batch, c, h, w = dims
    if batch is not None and batch != 1:
        raise UserError(f"{name} was exported with a fixed batch of {batch}; CNN Studio runs image models "
                        "exported with batch 1 or a dynamic batch.")
    if w in (1, 3) and c not in (1, 3):
        raise UserError(f"{name} takes channels-last input (N x H x W x C, {w} channel{'s' if w > 1 else ''} "
                        "last); CNN Studio runs channels-first (N x C x H x W) image models.")
    if c is None or h is None or w is None:
        shown = ["N", *("?" if d is None else str(d) for d in (c, h, w))]
        raise UserError(f"{name}'s input size ({' x '.join(shown)}) is not fixed; CNN Studio needs a fixed "
                        "C x H x W.")
    if c not in (1, 3):
        raise UserError(f"{name} takes {c} input channels; CNN Studio runs image models with 1 (gray) or 3 (RGB).")
    return inp.name, [1, c, h, w]


def ort_load_error(path: Path, exc: Exception) -> str:
    """One sentence for a model ONNX Runtime refused, without its error-code prefix."""
    text = str(exc).strip()
    if "INVALID_PROTOBUF" in text or "Protobuf parsing failed" in text:
        return f"{path.name} is not an ONNX model (the file is not valid ONNX data)."
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", first)
    return f"{path.name} is not a model ONNX Runtime can load: {first[:200]}"
