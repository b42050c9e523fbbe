"""What runs the network on each frame: ONNX Runtime (any provider) or, for a run not yet exported,
the torch model. Both take the preprocessed (1, C, H, W) float32 input and return probabilities, the
box of a localization model, and optionally the output of one layer (feature maps).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta
from cnnstudio.core.paths import models_dir
from cnnstudio.ml.tasks import as_outputs, runtime_for_outputs, runtime_of_model

BUNDLED_MODEL_NAME = "lenet5-digits.onnx"
_FEATURE_OPS = {"Conv", "Relu", "MaxPool", "AveragePool", "BatchNormalization", "LeakyRelu", "Sigmoid",
                "Tanh", "Elu", "Gelu", "Clip", "HardSwish", "Mul", "Add"}


def bundled_model_path() -> Path:
    """The digits model shipped with the app (the Live view's default)."""
    return models_dir() / BUNDLED_MODEL_NAME


@dataclass(frozen=True)
class Inference:
    probabilities: np.ndarray  # (classes,) float32
    bbox: tuple[float, float, float, float] | None  # x, y, w, h normalised to the model input
    features: np.ndarray | None  # (C, h, w) of the chosen layer, or None
    objects: np.ndarray | None = None  # a detector's (M, 6) x, y, w, h (normalised), score, class
    mask: np.ndarray | None = None  # a segmenter's class per pixel of the model input, uint8 (h, w)


class OnnxRunner:
    """An ONNX model through :class:`cnnstudio.ml.onnx_model.OnnxModel` on one execution provider.

    ``threads=1`` is fastest for LeNet-sized nets (thread hand-off costs more than the maths).
    """

    kind = "onnx"

    def __init__(self, path: str | Path, provider: str | None = None, threads: int | None = 1):
        from cnnstudio.ml.onnx_model import OnnxModel, available_providers

        self.path = Path(path)
        self.note = ""  # set when the chosen provider failed and CPU runs the model instead
        if provider and provider not in available_providers():
            self.note = f"ONNX Runtime offers no {provider.replace('ExecutionProvider', '')} here; using the CPU."
            provider = None
        try:
            self.model = OnnxModel(self.path, providers=[provider] if provider else None, threads=threads)
        except UserError:
            if not provider or provider == "CPUExecutionProvider":
                raise
            self.model = OnnxModel(self.path, providers=None, threads=threads)
            self.note = f"{provider.replace('ExecutionProvider', '')} could not run {self.path.name}; using the CPU."
        self.meta: ModelMeta = self.model.meta
        self._threads = threads
        self._outputs = list(self.model.output_names)
        self._task = runtime_for_outputs(self._outputs)  # decodes the outputs (core/ml task registry)
        self._feature_session = None
        self._feature_layer: str | None = None
        self._layers: list[str] | None = None

    @property
    def name(self) -> str:
        if self.path.name == "model.onnx" and (self.path.parent / "config.json").is_file():
            return f"run {self.path.parent.name}"  # a run's export: the run says more than "model.onnx"
        return self.path.name

    @property
    def provider(self) -> str:
        return self.model.providers[0]

    @property
    def provider_label(self) -> str:
        from cnnstudio.ml.onnx_model import PROVIDER_LABELS

        return PROVIDER_LABELS.get(self.provider, self.provider.replace("ExecutionProvider", ""))

    def feature_layers(self) -> list[str]:
        """Names of the graph's intermediate 4-D activations (conv, activation, pooling outputs)."""
        if self._layers is None:
            self._layers = [name for name, _ in self._intermediate_outputs()]
        return list(self._layers)

    def _intermediate_outputs(self):
        import onnx

        model = onnx.shape_inference.infer_shapes(onnx.load(str(self.path)))
        ranks = {}
        for info in list(model.graph.value_info) + list(model.graph.output):
            ranks[info.name] = len(info.type.tensor_type.shape.dim)
        finals = {o.name for o in model.graph.output}
        found = []
        for node in model.graph.node:
            if node.op_type in _FEATURE_OPS and node.output and ranks.get(node.output[0]) == 4:
                if node.output[0] not in finals:
                    found.append((node.output[0], node))
        return found

    def set_feature_layer(self, layer: str | None) -> None:
        """Also return the output of ``layer`` (one of :meth:`feature_layers`); None turns it off."""
        if layer == self._feature_layer:
            return
        if layer is None:
            self._feature_session, self._feature_layer = None, None
            return
        if layer not in self.feature_layers():
            raise UserError(f"The model has no layer output named {layer!r}.")
        import onnx
        import onnxruntime as ort

        model = onnx.load(str(self.path))
        model.graph.output.append(onnx.ValueInfoProto(name=layer))
        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                       providers=self.model.providers)
        self._feature_session, self._feature_layer = session, layer

    def infer(self, x: np.ndarray) -> Inference:
        tap = self._feature_session  # read once: the GUI thread may switch it between frames
        outputs = (tap or self.model.session).run(None, {self.model.input_name: x})
        decoded = self._task.decode(dict(zip(self._outputs, outputs)))  # a tap's extra output is left out
        return _inference(decoded, outputs[-1][0] if tap is not None else None)


class TorchRunner:
    """A torch model (a trained run that was not exported to ONNX yet), eager, without gradients."""

    kind = "torch"

    def __init__(self, model, meta: ModelMeta, name: str = "torch model", device: str = "cpu"):
        import torch

        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.meta = meta
        self._name = name
        self._feature_layer: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def provider(self) -> str:
        return f"PyTorch ({self.device.type})"

    def feature_layers(self) -> list[str]:
        layers = getattr(self.model, "layers", None)
        if layers is None or not hasattr(self.model, "forward_features"):
            return []
        names = []
        for name, module in layers.items():  # the convolutional part: up to the first flatten/dense layer
            if type(module).__name__ in ("Flatten", "Linear"):
                break
            names.append(name)
        return names

    def set_feature_layer(self, layer: str | None) -> None:
        if layer is not None and layer not in self.feature_layers():
            raise UserError(f"The model has no layer named {layer!r}.")
        self._feature_layer = layer

    def infer(self, x: np.ndarray) -> Inference:
        import torch

        with torch.inference_mode():
            tensor = torch.from_numpy(x).to(self.device)
            decoded = runtime_of_model(self.meta.task).decode_outputs(as_outputs(self.model(tensor)))
            features = None
            layer = self._feature_layer
            if layer is not None:
                maps = self.model.forward_features(tensor, ids=[layer])[layer]
                if maps.ndim == 4:
                    features = maps[0].float().cpu().numpy()
        return _inference(decoded, features)


def _inference(decoded, features: np.ndarray | None) -> Inference:
    """One image's :class:`Inference` from its decoded outputs (:class:`cnnstudio.ml.tasks.Decoded`)."""
    objects = decoded.objects_of(0) if decoded.objects is not None else None
    mask = decoded.masks[0] if decoded.masks is not None else None
    return Inference(decoded.probabilities[0], decoded.box(0), features, objects, mask)  # type: ignore[arg-type]


def load_runner(path: str | Path, provider: str | None = None):
    """An :class:`OnnxRunner` for an ``.onnx`` file, or for a training run folder its exported model,
    or its torch model when the run has not been exported yet."""
    path = Path(path)
    if path.is_dir():
        exported = path / "model.onnx"
        if exported.is_file():
            return OnnxRunner(exported, provider)
        return _torch_runner_for_run(path)
    if not path.exists():
        if path == bundled_model_path():
            raise UserError(
                f"The bundled digits model {path.name} is not in {path.parent} yet; choose an ONNX file or a run."
            )
        raise UserError(f"The model file {path} does not exist.")
    if path.suffix.lower() != ".onnx":
        raise UserError(f"{path.name} is not an ONNX model (.onnx) or a training run folder.")
    return OnnxRunner(path, provider)


def _torch_runner_for_run(run_dir: Path) -> TorchRunner:
    from cnnstudio.ml.runs import load_run_model

    spec, model = load_run_model(run_dir)
    return TorchRunner(model, ModelMeta.from_spec(spec), name=f"run {run_dir.name} (PyTorch)")


def provider_choices() -> list[tuple[str, str]]:
    """(provider, label) pairs ONNX Runtime offers here, best first; CPU always last."""
    from cnnstudio.ml.onnx_model import PROVIDER_LABELS, available_providers

    return [(p, PROVIDER_LABELS.get(p, p.replace("ExecutionProvider", ""))) for p in available_providers()]
