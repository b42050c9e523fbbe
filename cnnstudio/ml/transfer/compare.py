"""Transfer a backbone to a target task, and "with transfer" against "from scratch" on the same data.

:func:`transfer_model` keeps the backbone's weights, replaces its head with one for the target classes
and freezes the chosen blocks (``requires_grad=False``, the Designer's freeze toggle). :func:`compare`
trains that model and a freshly initialised twin with the project's trainer on the same small target
set, optionally followed by a fine-tuning stage of the whole network at a lower learning rate, and
measures the lecture's three claims from the validation curves (:func:`curve_facts`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from cnnstudio.core.errors import UserError
from cnnstudio.ml.transfer.backbones import Backbone, replace_module


@dataclass(frozen=True)
class CompareProgress:
    """One trainer event of one of the two runs ("transfer" or "scratch"), and the stage it belongs to."""

    which: str
    stage: str  # "head" (frozen body) or "finetune" (whole network, lower learning rate)
    event: object


@dataclass(frozen=True)
class CurveFacts:
    start: float  # validation accuracy after epoch 1
    slope: float  # mean gain per epoch over the first third of the epochs (at least epochs 1..3)
    asymptote: float  # mean validation accuracy of the last three epochs

    def as_dict(self) -> dict:
        return {"start": self.start, "slope": self.slope, "asymptote": self.asymptote}


@dataclass
class CompareResult:
    curves: dict[str, list[float]]  # "transfer" / "scratch" -> validation accuracy per epoch
    facts: dict[str, CurveFacts]
    head_epochs: int
    finetune_epochs: int
    train_size: int
    val_size: int
    frozen: list[str] = field(default_factory=list)
    status: str = "completed"  # or "cancelled" / the failure message


def curve_facts(curve: list[float]) -> CurveFacts:
    """Start, slope and asymptote of a validation-accuracy curve (one value per epoch)."""
    if not curve:
        return CurveFacts(math.nan, math.nan, math.nan)
    n = len(curve)
    q = min(n, max(3, math.ceil(n / 3)))
    slope = (curve[q - 1] - curve[0]) / (q - 1) if q > 1 else 0.0
    return CurveFacts(float(curve[0]), float(slope), float(np.mean(curve[-3:])))


def transfer_spec(backbone: Backbone, classes: list[str], frozen: list[str]) -> dict:
    """The target network's spec: the backbone's, with a new head for ``classes`` and ``frozen`` blocks."""
    if backbone.kind == "spec":
        spec = copy.deepcopy(backbone.spec)
        for layer in spec["layers"]:
            if layer["id"] == backbone.head:
                layer["out_features"] = len(classes)
            layer["trainable"] = layer["id"] not in frozen
    else:
        c, h, w = backbone.input_shape
        spec = {
            "name": backbone.name, "input": {"channels": c, "height": h, "width": w}, "task": "classification",
            "description": f"torchvision {backbone.name}; the trainer gets the built network, this spec records "
                           "its input, classes and preprocessing",
            "layers": [{"id": "torchvision", "type": "flatten"}],
        }
    spec["classes"] = list(classes)
    spec["preprocess"] = {k: v for k, v in backbone.preprocess.items() if k in ("mean", "std")}
    spec["name"] = f"{backbone.name} -> {len(classes)} classes"
    return spec


def transfer_model(backbone: Backbone, classes: list[str], frozen: list[str] | None = None,
                   pretrained: bool = True, seed: int = 0) -> tuple[dict, nn.Module]:
    """(spec, model): the backbone with a new head for ``classes``; ``frozen`` blocks keep their weights.

    With ``pretrained=False`` the same network starts from fresh seeded weights (the "from scratch" twin).
    """
    frozen = list(frozen or [])
    unknown = [b for b in frozen if b not in backbone.blocks]
    if unknown:
        raise UserError(f"The backbone has no block {unknown[0]!r}; its blocks are {', '.join(backbone.blocks)}.")
    if backbone.head in frozen:
        raise UserError(f"The head {backbone.head!r} is replaced for the new classes and cannot be frozen.")
    spec = transfer_spec(backbone, classes, frozen if pretrained else [])
    torch.manual_seed(seed)
    if backbone.kind == "spec":
        from cnnstudio.ml.builder import build_model

        model = build_model(spec)
        if pretrained:
            head_prefix = f"layers.{backbone.head}."
            state = {k: v for k, v in backbone.model.state_dict().items() if not k.startswith(head_prefix)}
            model.load_state_dict(state, strict=False)
    else:
        model = copy.deepcopy(backbone.model)
        if not pretrained:
            for module in model.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        old = model.get_submodule(backbone.head)
        replace_module(model, backbone.head, nn.Linear(old.in_features, len(classes)))
        if pretrained:
            for name, child in model.named_children():
                if name in frozen:
                    for p in child.parameters():
                        p.requires_grad_(False)
    return spec, model


def unfreeze(model: nn.Module) -> None:
    for p in model.parameters():
        p.requires_grad_(True)


def few_labels(data, per_class: int, seed: int = 0):
    """The bundle with only ``per_class`` seeded training images of each class (validation unchanged)."""
    from dataclasses import replace

    if per_class < 1:
        raise UserError(f"Labels per class must be at least 1, not {per_class}.")
    rng = np.random.default_rng(seed + 101)
    y = data.train_y.numpy()
    keep = []
    for c in range(len(data.classes)):
        idx = np.flatnonzero(y == c)
        keep.extend(idx[rng.permutation(len(idx))[:per_class]].tolist())
    keep = np.array(sorted(keep), dtype=np.int64)
    return replace(data, train_x=data.train_x[keep].contiguous(), train_y=data.train_y[keep],
                   train_boxes=None if data.train_boxes is None else data.train_boxes[keep])


def compare(backbone: Backbone, data, config: dict, frozen: list[str] | None = None, *,
            finetune_epochs: int = 0, finetune_lr_factor: float = 0.1, control=None,
            data_config: dict | None = None) -> Generator[CompareProgress, None, CompareResult]:
    """Train with transfer and from scratch on ``data`` (same settings, seeds, data); return both curves.

    ``config`` is a training dict (TrainConfig keys). With transfer, the ``frozen`` blocks keep the
    backbone's weights for ``config["epochs"]`` epochs; then, for ``finetune_epochs``, every layer trains at
    ``lr * finetune_lr_factor`` (a second trainer stage: the trainer has one learning rate for all
    parameters). From scratch trains every layer at the full rate for all epochs.
    """
    from cnnstudio.ml.trainer import EpochEnd, Failed, Finished, TrainConfig, TrainControl, train

    control = control or TrainControl()
    cfg = TrainConfig.from_dict(config)
    if finetune_epochs < 0:
        raise UserError(f"The fine-tuning epochs must be 0 (none) or more, not {finetune_epochs}.")
    if finetune_epochs and not (math.isfinite(finetune_lr_factor) and finetune_lr_factor > 0):
        raise UserError(f"The fine-tuning learning-rate factor must be above 0, not {finetune_lr_factor}.")
    frozen = list(frozen or [])
    curves: dict[str, list[float]] = {"transfer": [], "scratch": []}
    status = "completed"

    def stage(which, stage_name, spec, model, stage_cfg):
        nonlocal status
        for event in train(spec, data, stage_cfg, None, control, data_config=data_config, export=False,
                           model=model):
            if isinstance(event, EpochEnd):
                curves[which].append(float(event.metrics["val_accuracy"]))
            elif isinstance(event, Failed):
                status = event.message
            elif isinstance(event, Finished) and event.status == "cancelled":
                status = "cancelled"
            yield CompareProgress(which, stage_name, event)

    total_epochs = cfg.epochs + max(0, int(finetune_epochs))
    spec, model = transfer_model(backbone, list(data.classes), frozen, pretrained=True, seed=cfg.seed)
    yield from stage("transfer", "head", spec, model, cfg)
    if finetune_epochs > 0 and status == "completed":
        unfreeze(model)
        fine_cfg = TrainConfig.from_dict({**cfg.to_dict(), "epochs": int(finetune_epochs),
                                          "lr": cfg.lr * float(finetune_lr_factor)})
        yield from stage("transfer", "finetune", transfer_spec(backbone, list(data.classes), []), model, fine_cfg)
    if status == "completed":
        spec0, scratch = transfer_model(backbone, list(data.classes), [], pretrained=False, seed=cfg.seed)
        scratch_cfg = TrainConfig.from_dict({**cfg.to_dict(), "epochs": total_epochs})
        yield from stage("scratch", "head", spec0, scratch, scratch_cfg)
    facts = {k: curve_facts(v) for k, v in curves.items()}
    return CompareResult(curves, facts, cfg.epochs, max(0, int(finetune_epochs)), int(len(data.train_x)),
                         int(len(data.val_x)), frozen, status)
