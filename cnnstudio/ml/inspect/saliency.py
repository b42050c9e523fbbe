"""Which pixels drive a prediction: vanilla gradient saliency and Grad-CAM for our PyTorch models.

- Gradient saliency (Simonyan et al. 2013): |d score / d pixel|, max over colour channels.
- Grad-CAM (Selvaraju et al. 2017): a conv layer's channels weighted by the spatial mean of the score's
  gradient, ReLU, upsampled to the input. Coarser than the gradient but class-discriminative.

Both return a heat map in [0, 1] at the input's resolution. Written here (a few lines of autograd) rather
than adding grad-cam/captum as a dependency; tests check both against a model whose score depends on one
image quadrant only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.inspect.features import torch_layer_modules


@dataclass(frozen=True)
class Saliency:
    heat: np.ndarray  # (H, W) float32 in [0, 1]
    target: int  # the class explained
    layer: str = ""  # Grad-CAM's layer id


def _input_tensor(model: Any, x: Any):
    import torch

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float32))
    return t.detach().to(device=device, dtype=torch.float32).clone()


def _logits(output: Any):
    return output[0] if isinstance(output, (tuple, list)) else output


def _normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.nan_to_num(np.asarray(heat, dtype=np.float32))
    top = float(heat.max()) if heat.size else 0.0
    return (heat / top).astype(np.float32) if top > 0 else np.zeros_like(heat, dtype=np.float32)


def gradient_saliency(model: Any, x: Any, target: int | None = None) -> Saliency:
    """|d logit[target] / d input| for a (1, C, H, W) input; ``target`` defaults to the predicted class."""
    import torch

    model.eval()
    inp = _input_tensor(model, x).requires_grad_(True)
    with torch.enable_grad():
        logits = _logits(model(inp))
        cls = int(logits[0].argmax()) if target is None else int(target)
        _check_target(cls, logits.shape[-1])
        (grad,) = torch.autograd.grad(logits[0, cls], inp)
    heat = grad[0].abs().amax(dim=0).cpu().numpy()
    return Saliency(_normalise(heat), cls)


def _last_spatial(layers: dict, shapes: dict) -> str:
    import torch.nn as nn

    pooling = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    best = ""
    for name, module in layers.items():
        shape = shapes.get(name)
        if shape and len(shape) == 4 and shape[2] > 1 and shape[3] > 1 and not isinstance(module, pooling):
            if "pool" in type(module).__name__.lower():
                continue
            best = name
    return best


def grad_cam(model: Any, x: Any, layer: str | None = None, target: int | None = None) -> Saliency:
    """Grad-CAM of ``layer`` (default: the last spatial non-pooling layer) for a (1, C, H, W) input."""
    import torch
    import torch.nn.functional as F

    model.eval()
    layers = torch_layer_modules(model)
    if not layers:
        raise UserError("Grad-CAM needs a model whose layers are addressable by id (model.layers).")
    inp = _input_tensor(model, x).requires_grad_(True)
    captured: dict[str, Any] = {}
    shapes: dict[str, tuple] = {}
    handles = []
    for name, module in layers.items():
        handles.append(module.register_forward_hook(_keep(captured, shapes, name)))
    try:
        with torch.enable_grad():
            logits = _logits(model(inp))
            cls = int(logits[0].argmax()) if target is None else int(target)
            _check_target(cls, logits.shape[-1])
            name = layer or _last_spatial(layers, shapes)
            if not name:
                raise UserError("Grad-CAM needs a layer with a spatial output (a conv layer); this model has none.")
            if name not in captured:
                raise UserError(f"The model has no layer named {name!r}.")
            act = captured[name]
            if act.dim() != 4:
                raise UserError(f"Grad-CAM needs a layer with a spatial output; {name!r} gives shape {tuple(act.shape)[1:]}.")
            (grad,) = torch.autograd.grad(logits[0, cls], act, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    if grad is None:
        grad = torch.zeros_like(act)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * act).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam.detach(), size=tuple(inp.shape[2:]), mode="bilinear", align_corners=False)
    return Saliency(_normalise(cam[0, 0].cpu().numpy()), cls, name)


def _keep(captured: dict, shapes: dict, name: str):
    def hook(_m, _i, out):
        out = out[0] if isinstance(out, (tuple, list)) else out
        captured[name] = out
        shapes[name] = tuple(out.shape)

    return hook


def _check_target(cls: int, classes: int) -> None:
    if not 0 <= cls < classes:
        raise UserError(f"Class {cls} does not exist; the model has {classes} classes (0 to {classes - 1}).")


def torch_twin(inspect_model: Any) -> Any:
    """A PyTorch model for an inspected one, for saliency: its own, or for our ONNX files (which carry
    the spec) the built network with the ONNX weights loaded by parameter name. None when impossible."""
    if inspect_model.torch_model is not None:
        return inspect_model.torch_model
    onnx = inspect_model.onnx
    spec = inspect_model.meta.spec
    if onnx is None or not spec:
        return None
    import torch
    from onnx import numpy_helper

    try:
        from cnnstudio.ml.builder import build_model

        net = build_model(spec)
    except Exception:
        return None
    state = net.state_dict()
    loaded = {}
    for key, value in state.items():
        if not value.is_floating_point():
            loaded[key] = value
            continue
        init = onnx.initializers.get(key)
        if init is None:
            return None
        array = numpy_helper.to_array(init)
        if tuple(array.shape) != tuple(value.shape):
            return None
        loaded[key] = torch.from_numpy(array.astype(np.float32).copy())
    net.load_state_dict(loaded)
    net.eval()
    return net
