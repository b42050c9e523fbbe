"""Localization: the class scores plus one box per image, from a box head branching off the trunk.

The spec holds the head as ``"box_head": {"from": <trunk layer id>, "layers": [...]}``; its last layer
ends in 4 values (x, y, w, h normalised to the image, squashed into [0, 1] by the model).
"""

from __future__ import annotations

from cnnstudio.core.tasks.base import TaskType, register_task


def box_head_problems(spec: dict) -> list[str]:
    head = spec.get("box_head")
    if not isinstance(head, dict):
        return ['A localization network needs a "box_head" with "from" (a layer id) and "layers".']
    problems = [f"The box head has an unknown entry {key!r}." for key in head if key not in ("from", "layers")]
    layers = spec.get("layers")
    trunk_ids = [layer.get("id") for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []
    source = head.get("from")
    if not isinstance(source, str) or source not in trunk_ids:
        problems.append(f"The box head branches from {source!r}, which is not a layer of the network.")
    if not isinstance(head.get("layers", []), list):
        problems.append("The box head's layers must be a list of layers.")
    return problems


def default_box_head(spec: dict) -> dict:
    """``spec`` with a box head branching from the layer before the last (when it has none)."""
    from cnnstudio.core.spec_edit import set_box_head

    if isinstance(spec.get("box_head"), dict):
        return spec
    trunk = [layer.get("id") for layer in spec.get("layers", [])]
    source = trunk[-2] if len(trunk) >= 2 else (trunk[-1] if trunk else "")
    return set_box_head(spec, source, 0)


LOCALIZATION = register_task(TaskType(
    name="localization",
    label="Localization (class + box)",
    help=("Localization adds a box head predicting the object's box (x, y, w, h) next to the class "
          "scores."),
    outputs=("logits", "bbox"),
    data_targets=("labels", "boxes"),
    trains_on=("localization",),
    data_label="localization (class + box)",
    no_data_message=("This network predicts boxes (localization), but the data has no boxes; "
                     "choose a localization dataset such as shapes or a YOLO folder."),
    head_key="box_head",
    head_size=4,
    head_values="(x, y, w, h)",
    head_problems=box_head_problems,
    default_head=default_box_head,
))
