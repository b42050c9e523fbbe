"""Segmentation (scene parsing): a class for every pixel, from an encoder-decoder network.

The trunk ends in a K x H x W map of class scores (K = the classes, the background among them): an
encoder (convolutions, pooling) and a decoder that enlarges the maps again (``upsample``,
``conv_transpose2d``), ending in a 1x1 convolution with one output channel per class. A map smaller
than the image is enlarged bilinearly to the image (in the loss and in the decoding).
"""

from __future__ import annotations

import json
from typing import Any

from cnnstudio.core.registry import format_shape
from cnnstudio.core.tasks.base import TaskType, register_task


def segmentation_class_count(output_shape: tuple) -> int | None:
    """The classes a K x H x W score map scores (None for another shape)."""
    if output_shape is None or len(output_shape) != 3 or output_shape[0] < 2:
        return None
    return int(output_shape[0])


def segmentation_output_problem(last: Any, output_shape: tuple, num_classes: int) -> str | None:
    label = f"{last.type} {last.id!r}"
    if num_classes < 2:
        return "A segmentation network needs at least 2 classes (the background and one more) under \"classes\"."
    if len(output_shape) != 3:
        return (f"{label}: a segmentation network must end with a {num_classes} x H x W map of class scores, "
                f"but it ends with {format_shape(output_shape)} values; remove the flatten and dense layers.")
    if output_shape[0] != num_classes or last.type == "detect_head":
        return (f"{label}: the network ends with {output_shape[0]} channels, but there are {num_classes} classes; "
                f"end with a 1x1 conv2d of {num_classes} out_channels.")
    return None


def default_segmentation_head(spec: dict) -> dict:
    """``spec`` ending in a class-score map: the layers after its last feature map give way to a 1x1 conv
    with one channel per class (unchanged when it already ends in such a map)."""
    import copy

    from cnnstudio.core.inference import infer

    probe = {k: v for k, v in spec.items() if k != "box_head"}
    probe["task"] = "classification"
    infos = infer(probe).layers
    layers = [layer for layer in spec.get("layers", []) if isinstance(layer, dict)]
    keep = 0
    for index, info in enumerate(infos):
        if info.output_shape is not None and len(info.output_shape) == 3 and layers[index].get("type") != "detect_head":
            keep = index + 1
    classes = spec.get("classes") if isinstance(spec.get("classes"), list) else []
    if keep == len(layers) and infos and infos[-1].output_shape and infos[-1].output_shape[0] == max(2, len(classes)):
        return spec
    new = copy.deepcopy(spec)
    ids = {layer.get("id") for layer in layers}
    head_id = next(name for name in ("scores", *(f"scores{i}" for i in range(2, 1000))) if name not in ids)
    new["layers"] = [*copy.deepcopy(layers[:keep]),
                     {"id": head_id, "type": "conv2d", "out_channels": max(2, len(classes)), "kernel_size": 1}]
    return new


def decoding_props(spec: dict) -> dict[str, str]:
    return {"segmentation_decoding": json.dumps({
        "output": "masks",
        "layout": "N x K x h x w class scores (logits), K = the classes in class_names (background first)",
        "mask": "argmax over K per pixel, after enlarging the map bilinearly to the input size when it is smaller",
    })}


SEGMENTATION = register_task(TaskType(
    name="segmentation",
    label="Segmentation (a class per pixel)",
    help="Segmentation (scene parsing) gives every pixel a class, from an encoder-decoder ending in a map of class scores.",
    outputs=("masks",),
    data_targets=("labels", "masks"),
    trains_on=("segmentation",),
    data_label="segmentation (a class per pixel)",
    no_data_message=("This network gives every pixel a class, but the data has no masks; choose a segmentation "
                     "dataset such as scenes."),
    class_count=segmentation_class_count,
    output_problem=segmentation_output_problem,
    model_props=decoding_props,
    default_head=default_segmentation_head,
))
