"""An ONNX image model run with ONNX Runtime, with what its metadata says (ours or another tool's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.ml.preprocess import to_model_input

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

    @property
    def label(self) -> str:
        return self.top[0][1] if self.top else ""

    @property
    def confidence(self) -> float:
        return self.top[0][2] if self.top else 0.0


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


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
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise UserError(f"{self.path.name} takes {len(inputs)} inputs; CNN Studio runs image models with one.")
        self.input_name = inputs[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        props = dict(self.session.get_modelmeta().custom_metadata_map)
        graph_shape = [d if isinstance(d, int) else None for d in inputs[0].shape]
        if len(graph_shape) == 4 and graph_shape[0] is None:
            graph_shape[0] = 1
        first_out = self.session.get_outputs()[0].shape
        num_out = first_out[-1] if first_out and isinstance(first_out[-1], int) else None
        self.meta = ModelMeta.from_props(props, graph_shape, num_out)
        if inputs[0].type != "tensor(float)":
            raise UserError(
                f"{self.path.name} takes {inputs[0].type} input; CNN Studio feeds 32-bit float images "
                "(tensor(float))."
            )
        batch = inputs[0].shape[0] if inputs[0].shape else None
        if isinstance(batch, int) and batch != 1:
            raise UserError(
                f"{self.path.name} was exported with a fixed batch of {batch}; CNN Studio runs image models "
                "exported with batch 1 or a dynamic batch."
            )

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
        logits = outputs.get("logits", next(iter(outputs.values())))
        logits = np.asarray(logits, dtype=np.float32).reshape(len(batch), -1)
        boxes = outputs.get("bbox")
        probs = logits if _looks_like_probabilities(logits) else softmax(logits)
        result = []
        for i, p in enumerate(probs):
            order = np.argsort(-p)[: max(1, k)]
            top = [(int(j), self.meta.class_name(int(j)), float(p[j])) for j in order]
            box = tuple(float(v) for v in boxes[i][:4]) if boxes is not None else None
            result.append(Prediction(p, top, box))  # type: ignore[arg-type]
        return result

    def predict_image(self, image: np.ndarray, k: int = 5) -> Prediction:
        return self.predict_batch(self.prepare(image), k)[0]


def ort_load_error(path: Path, exc: Exception) -> str:
    """One sentence for a model ONNX Runtime refused, without its error-code prefix."""
    text = str(exc).strip()
    if "INVALID_PROTOBUF" in text or "Protobuf parsing failed" in text:
        return f"{path.name} is not an ONNX model (the file is not valid ONNX data)."
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", first)
    return f"{path.name} is not a model ONNX Runtime can load: {first[:200]}"


def _looks_like_probabilities(x: np.ndarray) -> bool:
    return bool(np.all(x >= 0) and np.allclose(x.sum(axis=-1), 1.0, atol=1e-3))
