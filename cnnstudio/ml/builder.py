"""Build a ``torch.nn.Module`` from a network spec.

The registry says which module implements each layer (``nn.Conv2d`` and friends, or one of the small
modules below for layers PyTorch has no class for) and with which arguments; this module only
instantiates them. Submodules are addressable by layer id (``model.layers["c1"]``), frozen layers
(``trainable: false``) have ``requires_grad=False``.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnstudio.core.errors import UserError
from cnnstudio.core.inference import NetworkSummary, infer
from cnnstudio.core.registry import LAYER_TYPES
from cnnstudio.core.spec import load_spec
from cnnstudio.core.tasks import task_of


class MinPool2d(nn.MaxPool2d):
    """Min pooling: the smallest value of each window, computed as ``-maxpool(-x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -super().forward(-x)


class Sign(nn.Module):
    """``torch.sign``: -1, 0 or 1 per value."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sign(x)


class GlobalAvgPool2d(nn.Module):
    """Average of each channel: (N, C, H, W) -> (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class DetectHead(nn.Module):
    """A grid detection head: [3x3 conv ``hidden`` + ReLU], then a 1x1 conv to ``num_classes + 4``
    channels per cell (class score logits, then centre offset x, y and box w, h logits). The class
    biases start at -4.6 (a score of 1 %), as CenterNet does, so the rare object cells are learnt fast."""

    def __init__(self, in_channels: int, num_classes: int, hidden: int = 64):
        super().__init__()
        self.num_classes = int(num_classes)
        body = [nn.Conv2d(in_channels, hidden, 3, padding=1), nn.ReLU(inplace=True)] if hidden else []
        self.body = nn.Sequential(*body)
        self.out = nn.Conv2d(hidden or in_channels, self.num_classes + 4, 1)
        with torch.no_grad():
            self.out.bias[: self.num_classes].fill_(-4.6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


#: Modules of CNN Studio's own, by the names the registry uses (code export copies their source).
CUSTOM_MODULES: dict[str, type[nn.Module]] = {
    "MinPool2d": MinPool2d,
    "Sign": Sign,
    "GlobalAvgPool2d": GlobalAvgPool2d,
    "DetectHead": DetectHead,
}


def module_class(name: str) -> type[nn.Module]:
    """The class for a registry module name: ``"nn.Conv2d"`` or a name in :data:`CUSTOM_MODULES`."""
    if name.startswith("nn."):
        return getattr(nn, name[3:])
    return CUSTOM_MODULES[name]


def build_layer(layer: dict, input_shape: tuple[int, ...]) -> nn.Module:
    """One layer's module for an input of ``input_shape`` (no batch dimension); ``layer`` is filled."""
    name, kwargs = LAYER_TYPES[layer["type"]].torch_module(layer, input_shape)
    module = module_class(name)(**kwargs)
    if not layer.get("trainable", True):
        for param in module.parameters():
            param.requires_grad_(False)
    return module


def _checked(spec: dict | str) -> tuple[dict, NetworkSummary]:
    spec = load_spec(spec)
    summary = infer(spec)
    if not summary.ok:
        count = len(summary.problems)
        head = "The network is not valid" if count == 1 else f"The network has {count} problems"
        raise UserError(f"{head}: " + " ".join(summary.problems))
    return spec, summary


class SpecModel(nn.Module):
    """The network of a spec. ``model(x)`` returns logits, or ``(logits, bbox)`` for localization.

    ``bbox`` is (N, 4) = x, y, w, h of the box normalised to the image, squashed into [0, 1] by a
    sigmoid that follows the box head's last layer.
    """

    def __init__(self, spec: dict | str):
        super().__init__()
        spec, summary = _checked(spec)
        self.spec = spec
        self.summary = summary
        self.layers = nn.ModuleDict()
        for layer, info in zip(spec["layers"], summary.layers):
            self.layers[layer["id"]] = build_layer(layer, info.input_shape)
        self.box_head: nn.ModuleDict | None = None
        self.box_source: str | None = None
        head_key = task_of(spec).head_key  # the task's head branching off the trunk (localization: box_head)
        if head_key:
            self.box_source = spec[head_key]["from"]
            self.box_head = nn.ModuleDict()
            for layer, info in zip(spec[head_key]["layers"], summary.box_head.layers):
                self.box_head[layer["id"]] = build_layer(layer, info.input_shape)

    @property
    def is_localizer(self) -> bool:
        return self.box_head is not None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        inp = self.spec["input"]
        return inp["channels"], inp["height"], inp["width"]

    def module(self, layer_id: str) -> nn.Module:
        """The module of a trunk or box-head layer by id."""
        if layer_id in self.layers:
            return self.layers[layer_id]
        if self.box_head is not None and layer_id in self.box_head:
            return self.box_head[layer_id]
        raise KeyError(f"The network has no layer {layer_id!r}.")

    def forward(self, x: torch.Tensor):
        branch = None
        for layer_id, module in self.layers.items():
            x = module(x)
            if layer_id == self.box_source:
                branch = x
        if self.box_head is None:
            return x
        for module in self.box_head.values():
            branch = module(branch)
        return x, torch.sigmoid(branch)

    def forward_features(self, x: torch.Tensor, ids=None) -> dict[str, torch.Tensor]:
        """Outputs of the layers in ``ids`` (all when None), by layer id; stops once all are found."""
        wanted = None if ids is None else set(ids)
        if wanted is not None:
            unknown = wanted - set(self.layers) - set(self.box_head or {})
            if unknown:
                raise KeyError(f"The network has no layer {sorted(unknown)[0]!r}.")
        out: dict[str, torch.Tensor] = {}
        branch = None
        for layer_id, module in self.layers.items():
            x = module(x)
            if layer_id == self.box_source:
                branch = x
            if wanted is None or layer_id in wanted:
                out[layer_id] = x
            if wanted is not None and wanted <= out.keys() and not (wanted & set(self.box_head or {})):
                return out
        if self.box_head is not None:
            for layer_id, module in self.box_head.items():
                branch = module(branch)
                if wanted is None or layer_id in wanted:
                    out[layer_id] = branch
        return out


def build_model(spec: dict | str) -> SpecModel:
    """The model of ``spec`` (a template name, file or dict) with fresh weights; UserError if invalid."""
    try:
        return SpecModel(spec)
    except (MemoryError, RuntimeError) as exc:  # the weights do not fit in memory
        if not isinstance(exc, MemoryError) and "alloc" not in str(exc).lower():
            raise
        params = infer(load_spec(spec)).total_params
        raise UserError(f"The network's {params:,} parameters ({params * 4 / 2**30:,.1f} GiB) do not fit in "
                        "this computer's memory; make its layers smaller.") from None
