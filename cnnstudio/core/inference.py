"""Shape, parameter and mult-add inference for a network spec, without torch.

:func:`infer` walks the layers with the registry's rules and returns a :class:`NetworkSummary`: per
layer the input and output shape, weights, biases, trainable flag, mult-adds and activation size, plus
totals. It never raises: every problem is collected as one sentence tied to a layer id
("conv2d 'c3': 5x5 kernel is larger than its 4x4 padded input"), the layer's ``error`` holds it and
the layers after a broken one have no shape. :func:`weight_sharing` compares each convolution with
the dense layer that would map the same input to the same output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from cnnstudio.core.registry import LAYER_TYPES, Shape, ShapeError, format_shape
from cnnstudio.core.spec import fill_layer_defaults, layer_label, layer_structure_problems, top_level_problems
from cnnstudio.core.tasks import get_task, is_task


@dataclass(frozen=True)
class LayerInfo:
    """What inference knows about one layer. Shapes exclude the batch dimension."""

    id: str
    type: str
    input_shape: Shape | None
    output_shape: Shape | None
    params: int = 0
    weights: int = 0
    biases: int = 0
    trainable: bool = True
    mult_adds: int = 0
    activation_size: int = 0  # values in the output per sample (float32: 4 bytes each)
    error: str | None = None
    branch: str = "trunk"  # or "box_head"

    @property
    def ok(self) -> bool:
        return self.error is None and self.output_shape is not None


@dataclass(frozen=True)
class BoxHeadInfo:
    """The localization head: it branches from trunk layer ``source`` and ends in 4 box values."""

    source: str
    input_shape: Shape | None
    layers: list[LayerInfo]
    output_shape: Shape | None


@dataclass(frozen=True)
class NetworkSummary:
    layers: list[LayerInfo]
    input_shape: Shape | None
    output_shape: Shape | None  # the trunk's output (the logits for classification)
    task: str = "classification"
    num_classes: int = 0
    box_head: BoxHeadInfo | None = None
    total_params: int = 0
    trainable_params: int = 0
    frozen_params: int = 0
    mult_adds: int = 0
    activation_size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def all_layers(self) -> list[LayerInfo]:
        """Trunk layers followed by the box head's."""
        return self.layers + (self.box_head.layers if self.box_head else [])

    def layer(self, layer_id: str) -> LayerInfo:
        for info in self.all_layers:
            if info.id == layer_id:
                return info
        raise KeyError(f"The network has no layer {layer_id!r}.")


def _input_shape(spec: dict) -> Shape | None:
    inp = spec.get("input")
    if not isinstance(inp, dict):
        return None
    values = [inp.get(k) for k in ("channels", "height", "width")]
    if all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        return tuple(values)  # type: ignore[return-value]
    return None


def _walk(
    layers: Any, shape: Shape | None, where: str, seen: set[str], problems: list[str], branch: str,
    stop_at: str | None = None,
) -> tuple[list[LayerInfo], Shape | None, dict[str, Shape | None]]:
    """Infer a chain of layers from ``shape``; returns infos, the final shape and every output by id."""
    infos: list[LayerInfo] = []
    outputs: dict[str, Shape | None] = {}
    if not isinstance(layers, list):
        return infos, None, outputs
    for index, layer in enumerate(layers, start=1):
        issues = layer_structure_problems(layer, index, where, seen)
        if not isinstance(layer, dict):
            problems.extend(issues)
            shape = None
            continue
        ident = layer.get("id") if isinstance(layer.get("id"), str) else f"#{index}"
        kind = layer.get("type")
        layer_type = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
        if layer_type is None:
            problems.extend(issues)
            infos.append(LayerInfo(ident, str(kind), shape, None, error=issues[-1], branch=branch))
            outputs[ident] = None
            shape = None
            continue
        full = fill_layer_defaults(layer)
        value_ok = True
        for spec in layer_type.params:
            message = spec.check(full[spec.name])
            if message and spec.name == "stride" and layer.get("stride") is None:
                value_ok = False  # copied from a bad kernel_size, which is reported already
            elif message:
                issues.append(f"{layer_label(layer)}: {message}.")
                value_ok = False
        in_shape = shape
        out: Shape | None = None
        weights = biases = mult_adds = 0
        if value_ok and in_shape is not None:
            try:
                out = layer_type.shape_rule(full, in_shape)
                weights, biases = layer_type.param_rule(full, in_shape, out)
                mult_adds = layer_type.mult_adds_rule(full, in_shape, out)
            except ShapeError as exc:
                issues.append(f"{layer_label(layer)}: {exc}.")
                out = None
            else:
                if min(out) < 1:
                    issues.append(f"{layer_label(layer)}: its output {format_shape(out)} is empty.")
                    out = None
        problems.extend(issues)
        trainable = full["trainable"] if isinstance(full["trainable"], bool) else True
        infos.append(
            LayerInfo(
                id=ident,
                type=kind,
                input_shape=in_shape,
                output_shape=out,
                params=weights + biases,
                weights=weights,
                biases=biases,
                trainable=trainable,
                mult_adds=mult_adds,
                activation_size=math.prod(out) if out else 0,
                error=" ".join(issues) if issues else None,
                branch=branch,
            )
        )
        outputs[ident] = out
        shape = out
    return infos, shape, outputs


def infer(spec: Any) -> NetworkSummary:
    """Per-layer shapes, parameters and mult-adds of ``spec`` and every problem; never raises."""
    try:
        return _infer(spec)
    except Exception as exc:  # noqa: BLE001 - a bug here must not crash the editor; report it instead
        return NetworkSummary(
            layers=[], input_shape=None, output_shape=None,
            problems=[f"The network spec could not be analysed ({type(exc).__name__}: {exc})."],
        )


def _infer(spec: Any) -> NetworkSummary:
    if not isinstance(spec, dict):
        return NetworkSummary(layers=[], input_shape=None, output_shape=None,
                              problems=["The network spec must be a JSON object."])
    problems = top_level_problems(spec)
    input_shape = _input_shape(spec)
    task = spec.get("task", "classification")
    classes = spec.get("classes", [])
    num_classes = len(classes) if isinstance(classes, list) else 0
    seen: set[str] = set()
    layers = spec.get("layers")
    if isinstance(layers, list) and not layers:
        problems.append("The network has no layers.")
    infos, out_shape, outputs = _walk(layers, input_shape, "layers", seen, problems, "trunk")

    if infos and out_shape is not None and is_task(task):
        message = get_task(task).output_problem(infos[-1], out_shape, num_classes)  # the task's rule
        if message:
            problems.append(message)
            infos[-1] = replace(infos[-1], error=message)

    head_info: BoxHeadInfo | None = None
    kind = get_task(task) if is_task(task) else None
    head = spec.get(kind.head_key) if kind is not None and kind.head_key else None
    if isinstance(head, dict):  # the task's head branching off the trunk (localization: the box head)
        name, size = kind.head_key.replace("_", " "), kind.head_size
        source = head.get("from")
        head_in = outputs.get(source) if isinstance(source, str) else None
        head_infos, head_out, _ = _walk(head.get("layers", []), head_in, f"{name} layers", seen, problems, kind.head_key)
        if head_in is not None and head_out is not None and head_out != (size,):
            found = f"{head_out[0]} values" if len(head_out) == 1 else f"a {format_shape(head_out)} feature map"
            if head_infos:
                message = (
                    f"{layer_label(head.get('layers')[-1])}: the {name} must end with {size} values "
                    f"{kind.head_values}, but it ends with {found}."
                )
                head_infos[-1] = replace(head_infos[-1], error=message)
            else:
                message = f"The {name} has no layers and its source {source!r} gives {found}, not {size} box values."
            problems.append(message)
            head_out = None
        head_info = BoxHeadInfo(source=str(source), input_shape=head_in, layers=head_infos, output_shape=head_out)

    every = infos + (head_info.layers if head_info else [])
    total = sum(i.params for i in every)
    trainable = sum(i.params for i in every if i.trainable)
    return NetworkSummary(
        layers=infos,
        input_shape=input_shape,
        output_shape=out_shape if infos else None,
        task=task if isinstance(task, str) else "classification",
        num_classes=num_classes,
        box_head=head_info,
        total_params=total,
        trainable_params=trainable,
        frozen_params=total - trainable,
        mult_adds=sum(i.mult_adds for i in every),
        activation_size=sum(i.activation_size for i in every),
        problems=problems,
    )


# --- weight sharing ------------------------------------------------------------------------------------


def dense_equivalent_weights(input_shape: Shape, output_shape: Shape) -> int:
    """Weights of a fully connected layer from ``input_shape`` to ``output_shape`` (no biases).

    The lecture's example: a 28x28 image to 84 dense neurons needs 784 * 84 = 65,856 weights.
    """
    return math.prod(input_shape) * math.prod(output_shape)


@dataclass(frozen=True)
class WeightSharingRow:
    id: str
    input_shape: Shape
    output_shape: Shape
    conv_weights: int
    conv_params: int  # weights + biases
    dense_weights: int
    dense_params: int  # dense weights + one bias per output value

    @property
    def ratio(self) -> float:
        """How many times more weights the dense layer needs."""
        return self.dense_weights / self.conv_weights if self.conv_weights else math.inf


@dataclass(frozen=True)
class WeightSharing:
    rows: list[WeightSharingRow]
    total_params: int  # the network as it is
    all_dense_params: int  # every convolution replaced by its dense equivalent

    @property
    def ratio(self) -> float:
        return self.all_dense_params / self.total_params if self.total_params else math.inf


def weight_sharing(spec: Any) -> WeightSharing:
    """Per convolution: its weights against a dense layer mapping the same input to the same output."""
    summary = infer(spec)
    rows = []
    for info in summary.all_layers:
        if info.type != "conv2d" or info.output_shape is None or info.input_shape is None:
            continue
        dense_w = dense_equivalent_weights(info.input_shape, info.output_shape)
        rows.append(
            WeightSharingRow(
                id=info.id,
                input_shape=info.input_shape,
                output_shape=info.output_shape,
                conv_weights=info.weights,
                conv_params=info.params,
                dense_weights=dense_w,
                dense_params=dense_w + math.prod(info.output_shape),
            )
        )
    conv_total = sum(r.conv_params for r in rows)
    dense_total = sum(r.dense_params for r in rows)
    return WeightSharing(
        rows=rows,
        total_params=summary.total_params,
        all_dense_params=summary.total_params - conv_total + dense_total,
    )
