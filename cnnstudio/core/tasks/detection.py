"""Detection: several objects per image, a box and a class for each, from a grid head (CenterNet style).

The network's trunk ends in a ``detect_head`` layer: a (classes + 4) x H x W map whose cells each give
a score per class (an object's centre is in this cell) and that object's box (centre offset in the cell,
width and height as fractions of the image). The decoding (sigmoid, local maxima, score threshold,
non-maximum suppression) is written into the exported model's metadata and implemented once in
:mod:`cnnstudio.ml.tasks.detection`.
"""

from __future__ import annotations

import json
from typing import Any

from cnnstudio.core.registry import DETECT_BOX_VALUES, format_shape
from cnnstudio.core.tasks.base import TaskType, register_task

#: the decoding of the head's raw output, as the metadata documents it and ml.tasks.detection applies it
SCORE_THRESHOLD = 0.3
NMS_IOU = 0.5
MAX_OBJECTS = 100
#: objects per image a detection dataset holds at most (targets are padded to this many)
MAX_TARGETS = 32


def detection_class_count(output_shape: tuple) -> int | None:
    """The classes a (classes + 4) x H x W detection map scores (None for another shape)."""
    if output_shape is None or len(output_shape) != 3 or output_shape[0] <= DETECT_BOX_VALUES:
        return None
    return int(output_shape[0]) - DETECT_BOX_VALUES


def detection_output_problem(last: Any, output_shape: tuple, num_classes: int) -> str | None:
    """A detection network's trunk must end in a detect_head scoring the spec's classes."""
    label = f"{last.type} {last.id!r}"
    if last.type != "detect_head":
        return (f"{label}: a detection network must end with a detection head (detect_head), but it ends with "
                f"a {format_shape(output_shape)} output.")
    if num_classes == 0:
        return "The network lists no classes; a detector needs its class names under \"classes\"."
    found = detection_class_count(output_shape)
    if found != num_classes:
        return (f"{label}: the head scores {found} classes, but there are {num_classes} classes; "
                f"set its num_classes to {num_classes}.")
    return None


def decoding_props(spec: dict) -> dict[str, str]:
    """The ONNX metadata that says how to read the head's raw output ``detections``."""
    inp = spec.get("input", {})
    decoding = {
        "output": "detections",
        "layout": ("N x (K + 4) x GH x GW raw values (logits): channels 0..K-1 the class scores of each cell, "
                   "then tx, ty, tw, th"),
        "score": "sigmoid(class logit); a detection is a cell whose score is the maximum of its 3x3 neighbourhood",
        "box": ("cx = (col + sigmoid(tx)) / GW, cy = (row + sigmoid(ty)) / GH, w = sigmoid(tw), h = sigmoid(th), "
                "fractions of the model input; x, y = cx - w / 2, cy - h / 2"),
        "stride": [int(inp.get("height", 0)), int(inp.get("width", 0))],  # divided by GH, GW: pixels per cell
        "score_threshold": SCORE_THRESHOLD,
        "nms_iou": NMS_IOU,
        "nms": "per class (torchvision.ops.batched_nms)",
        "max_objects": MAX_OBJECTS,
    }
    return {"detection_decoding": json.dumps(decoding)}


def default_detect_head(spec: dict) -> dict:
    """``spec`` ending in a detection head: the layers after its last feature map (flatten, dense, global
    pooling) give way to a ``detect_head`` for its classes (unchanged when it already ends in one)."""
    import copy

    from cnnstudio.core.inference import infer

    layers = [layer for layer in spec.get("layers", []) if isinstance(layer, dict)]
    if layers and layers[-1].get("type") == "detect_head":
        return spec
    probe = {k: v for k, v in spec.items() if k not in ("box_head",)}
    probe["task"] = "classification"
    infos = infer(probe).layers
    keep = 0
    for index, info in enumerate(infos):
        if info.output_shape is not None and len(info.output_shape) == 3:
            keep = index + 1
    new = copy.deepcopy(spec)
    ids = {layer.get("id") for layer in layers}
    head_id = next(name for name in ("head", *(f"head{i}" for i in range(2, 1000))) if name not in ids)
    classes = spec.get("classes") if isinstance(spec.get("classes"), list) else []
    new["layers"] = [*copy.deepcopy(layers[:keep]),
                     {"id": head_id, "type": "detect_head", "num_classes": len(classes) or 5, "hidden": 64}]
    return new


DETECTION = register_task(TaskType(
    name="detection",
    label="Detection (several objects: box + class each)",
    help=("Detection finds every object in the image, a box and a class for each, from a detection head "
          "(detect_head) at the end of a conv body."),
    outputs=("detections",),
    data_targets=("labels", "objects"),
    trains_on=("detection", "localization"),
    data_label="detection (boxes + classes, several per image)",
    no_data_message=("This network detects objects, but the data has no boxes; choose a detection dataset "
                     "such as multishapes, a COCO folder or a YOLO folder."),
    data_notes={"localization": "The data has one box per image; the detector learns it as a single object."},
    class_count=detection_class_count,
    output_problem=detection_output_problem,
    model_props=decoding_props,
    default_head=default_detect_head,
))
