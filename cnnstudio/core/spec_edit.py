"""Pure edits of a network spec: every function returns a NEW spec dict and leaves its input alone.

The designer pushes each result to the document as one undoable step (``ctx.edit("network", ...)``);
a drop, a key press and a test all go through the same function, so they cannot disagree.
Layer positions are list indices; a *gap* index ``0..len(layers)`` is a place between layers
(0 = before the first, ``len`` = after the last), which is what a drop indicator points at.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from cnnstudio.core.registry import get_layer_type
from cnnstudio.core.spec import all_layers, new_layer_id
from cnnstudio.core.tasks import head_keys


def _layers(spec: dict) -> list[dict]:
    return spec.setdefault("layers", [])


def layer_key(layer: dict, index: int) -> str:
    """How edits address a layer: its id, or ``#N`` (1-based position) for a layer without one,
    the name inference gives it, so a hand-edited file's id-less layer can still be edited and renamed."""
    ident = layer.get("id") if isinstance(layer, dict) else None
    return ident if isinstance(ident, str) and ident else f"#{index + 1}"


def layer_ids(spec: dict) -> list[str]:
    """The layer keys in order (see :func:`layer_key`)."""
    return [layer_key(layer, i) for i, layer in enumerate(spec.get("layers", []))]


def layer_index(spec: dict, layer_id: str) -> int:
    """The position of the layer ``layer_id``; KeyError when there is none."""
    try:
        return layer_ids(spec).index(layer_id)
    except ValueError:
        raise KeyError(f"the network has no layer {layer_id!r}") from None


def make_layer(type_name: str) -> dict:
    """A new layer of ``type_name`` with the registry's defaults (no id yet; insertion gives one).

    One rule on top of the defaults, for every type with a ``padding`` that may be "same": a new layer
    pads by half its kernel, so a dropped 3x3 convolution keeps the feature-map size (pad 1).
    """
    layer_type = get_layer_type(type_name)
    layer: dict[str, Any] = {"type": layer_type.name, **copy.deepcopy(layer_type.defaults())}
    names = {param.name: param for param in layer_type.params}
    kernel = layer.get("kernel_size")
    if "padding" in names and names["padding"].kind == "padding" and isinstance(kernel, int) and kernel % 2:
        layer["padding"] = kernel // 2
    layer["trainable"] = True
    return layer


def _clamp_gap(spec: dict, index: int) -> int:
    count = len(spec.get("layers", []))
    if index < 0:
        index += count + 1
    return max(0, min(count, index))


def insert_layers(spec: dict, index: int, layers: Iterable[dict]) -> dict:
    """Insert copies of ``layers`` at gap ``index`` (negative counts from the end: -1 = append).

    A layer without an id, or whose id is already taken, gets a fresh unique one.
    """
    new = copy.deepcopy(spec)
    position = _clamp_gap(new, index)
    target = _layers(new)
    for layer in layers:
        item = copy.deepcopy(layer)
        if "type" not in item:
            raise ValueError("a layer needs a 'type'")
        taken = {existing.get("id") for existing in all_layers(new)}
        if not item.get("id") or item["id"] in taken:
            item["id"] = new_layer_id(new, str(item["type"]))
        target.insert(position, item)
        position += 1
    return new


def insert_layer(spec: dict, index: int, layer: dict | str) -> dict:
    """Insert one layer (a dict, or a type name for a layer with default parameters) at gap ``index``."""
    if isinstance(layer, str):
        layer = make_layer(layer)
    return insert_layers(spec, index, [layer])


def move_layers(spec: dict, ids: Sequence[str], to_index: int) -> dict:
    """Move the layers ``ids`` (keeping their order) to gap ``to_index`` of the current list."""
    new = copy.deepcopy(spec)
    layers = _layers(new)
    wanted = set(ids)
    for layer_id in wanted:
        layer_index(new, layer_id)
    to_index = _clamp_gap(new, to_index)
    keys = layer_ids(new)
    moving = [layer for layer, key in zip(layers, keys) if key in wanted]
    before = sum(1 for key in keys[:to_index] if key in wanted)
    rest = [layer for layer, key in zip(layers, keys) if key not in wanted]
    position = to_index - before
    new["layers"] = rest[:position] + moving + rest[position:]
    return new


def move_layer(spec: dict, from_index: int, to_index: int) -> dict:
    """Move the layer at ``from_index`` to gap ``to_index`` (as a drag-and-drop reorder does)."""
    layers = spec.get("layers", [])
    if not 0 <= from_index < len(layers):
        raise IndexError(f"there is no layer at position {from_index}")
    return move_layers(spec, [layers[from_index]["id"]], to_index)


def remove_layers(spec: dict, ids: Iterable[str]) -> dict:
    """The spec without the layers ``ids`` (unknown ids are ignored)."""
    new = copy.deepcopy(spec)
    wanted = set(ids)
    new["layers"] = [layer for layer, key in zip(_layers(new), layer_ids(new)) if key not in wanted]
    return new


def copy_layers(spec: dict, ids: Iterable[str]) -> list[dict]:
    """Deep copies of the layers ``ids`` in network order (for the clipboard)."""
    wanted = set(ids)
    return [
        copy.deepcopy(layer) for layer, key in zip(spec.get("layers", []), layer_ids(spec)) if key in wanted
    ]


def duplicate_layers(spec: dict, ids: Iterable[str]) -> dict:
    """Insert copies of the layers ``ids`` (with fresh ids) right after the last of them."""
    wanted = set(ids)
    copies = copy_layers(spec, wanted)
    if not copies:
        return copy.deepcopy(spec)
    last = max(i for i, key in enumerate(layer_ids(spec)) if key in wanted)
    for layer in copies:
        layer.pop("id", None)
    return insert_layers(spec, last + 1, copies)


def set_param(spec: dict, layer_id: str, name: str, value: Any) -> dict:
    """Set parameter ``name`` of layer ``layer_id`` (validity is for inference to judge, not this)."""
    if name in ("id", "type"):
        raise ValueError(f"{name!r} is not a parameter")
    new = copy.deepcopy(spec)
    layer = _layers(new)[layer_index(new, layer_id)]
    layer[name] = copy.deepcopy(value)
    return new


def set_layer_type(spec: dict, layer_id: str, type_name: str) -> dict:
    """Replace a layer by a default layer of another type, keeping its id, place and trainable flag."""
    new = copy.deepcopy(spec)
    index = layer_index(new, layer_id)
    old = _layers(new)[index]
    layer = make_layer(type_name)
    layer["trainable"] = old.get("trainable", True)
    new["layers"][index] = {"id": layer_id, **layer}
    return new


def rename_layer(spec: dict, old_id: str, new_id: str) -> dict:
    """Give layer ``old_id`` the id ``new_id`` (the box head's branch point follows it)."""
    new = copy.deepcopy(spec)
    if new_id != old_id and any(layer.get("id") == new_id for layer in all_layers(new)):
        raise ValueError(f"another layer is already called {new_id!r}")
    _layers(new)[layer_index(new, old_id)]["id"] = new_id
    for key in head_keys():  # a task head's branch point (localization's box head)
        head = new.get(key)
        if isinstance(head, dict) and head.get("from") == old_id:
            head["from"] = new_id
    return new


def set_trainable(spec: dict, ids: Iterable[str], trainable: bool) -> dict:
    """Freeze (``trainable=False``) or unfreeze the layers ``ids``."""
    new = copy.deepcopy(spec)
    for layer_id in ids:
        _layers(new)[layer_index(new, layer_id)]["trainable"] = bool(trainable)
    return new


def set_input(
    spec: dict, channels: int | None = None, height: int | None = None, width: int | None = None
) -> dict:
    """Change the network input; ``None`` keeps a value.

    The preprocessing mean and std are per channel: when the channel count changes they take the
    average of their old values for every channel.
    """
    new = copy.deepcopy(spec)
    shape = dict(new.get("input") or {})
    for key, value in (("channels", channels), ("height", height), ("width", width)):
        if value is not None:
            shape[key] = int(value)
    new["input"] = shape
    pre = new.get("preprocess")
    count = shape.get("channels")
    if isinstance(pre, dict) and isinstance(count, int) and count >= 1:
        for key in ("mean", "std"):
            values = pre.get(key)
            if isinstance(values, list) and values and len(values) != count:
                numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
                if numbers:
                    pre[key] = [round(sum(numbers) / len(numbers), 6)] * count
    return new


def set_task(spec: dict, task: str) -> dict:
    """Set the task (a name of the task registry: "classification", "localization", ...).

    A task with a head (localization's box head) gets its default one when there is none; the heads
    of other tasks are removed.
    """
    from cnnstudio.core.tasks import get_task, is_task, task_names

    if not is_task(task):
        raise ValueError(f"unknown task {task!r}; use one of {', '.join(task_names())}")
    new = copy.deepcopy(spec)
    new["task"] = task
    kind = get_task(task)
    for key in head_keys():
        if key != kind.head_key:
            new.pop(key, None)
    if kind.default_head is not None:
        new = kind.default_head(new)
    return new


def set_box_head(spec: dict, source: str, hidden: int = 0) -> dict:
    """A box head from layer ``source``: [flatten], [linear ``hidden`` + relu], linear 4 (x, y, w, h).

    A flatten comes first when ``source`` outputs a feature map (known from inference).
    """
    from cnnstudio.core.inference import infer

    trunk_only = {k: v for k, v in spec.items() if k != "box_head"}
    trunk_only["task"] = "classification"
    summary = infer(trunk_only)
    shape = next((info.output_shape for info in summary.layers if info.id == source), None)
    new = copy.deepcopy(spec)
    new["box_head"] = {"from": source, "layers": []}
    head = new["box_head"]["layers"]
    wanted: list[dict] = []
    if shape is not None and len(shape) == 3:
        wanted.append({"type": "flatten"})
    if hidden > 0:
        wanted += [{"type": "linear", "out_features": int(hidden)}, {"type": "relu"}]
    wanted.append({"type": "linear", "out_features": 4})
    for layer in wanted:
        head.append({"id": new_layer_id(new, layer["type"]), **layer, "trainable": True})
    return new


def set_classes(spec: dict, classes: Sequence[str]) -> dict:
    """Set the class names (blank names are dropped, the rest stripped)."""
    new = copy.deepcopy(spec)
    new["classes"] = [str(name).strip() for name in classes if str(name).strip()]
    return new


def set_field(spec: dict, key: str, value: Any) -> dict:
    """Set a top-level field of the spec (``name``, ``description``, ``box_head``...)."""
    if key in ("layers", "format", "version"):
        raise ValueError(f"{key!r} cannot be set this way")
    new = copy.deepcopy(spec)
    if value is None:
        new.pop(key, None)
    else:
        new[key] = copy.deepcopy(value)
    return new


def fit_classes(spec: dict, classes: Sequence[str]) -> dict:
    """Make a classifier end in ``len(classes)`` outputs named ``classes`` (the data's classes).

    The last trunk layer that sets a width (a linear layer's ``out_features``, or a conv's
    ``out_channels`` in a network that ends with global pooling) is resized; the layers after it
    (activations, dropout, pooling, flatten) keep working. ``ValueError`` when no layer sets a width.
    """
    names = [str(name) for name in classes]
    if not names:
        raise ValueError("the data has no classes")
    layers = spec.get("layers") or []
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        if not isinstance(layer, dict):
            continue
        try:
            known = get_layer_type(str(layer.get("type"))).param_names
        except (KeyError, ValueError):
            known = ()
        for param in ("num_classes", "out_features", "out_channels"):  # a head's class count first
            if param in layer or param in known:
                new = set_param(spec, layer_key(layer, index), param, len(names))
                new["classes"] = names
                return new
    raise ValueError("the network has no layer whose output size can be set")


def with_placeholder_classes(spec: dict) -> dict:
    """``spec`` naming as many classes as its trunk has outputs, so inference judges the layers alone.

    The class count is the data's business: a network without class names gets the data's, and a
    count that does not match is offered :func:`fit_classes`.
    """
    from cnnstudio.core.inference import infer
    from cnnstudio.core.tasks import DEFAULT_TASK, get_task, is_task

    probe = dict(spec)
    probe["classes"] = ["c0", "c1"]
    out = infer(probe).output_shape
    task = get_task(spec.get("task", DEFAULT_TASK) if is_task(spec.get("task", DEFAULT_TASK)) else DEFAULT_TASK)
    count = task.class_count(out) if out is not None else None  # the task says where its class scores are
    if count is not None and count >= 1:
        probe["classes"] = [f"c{i}" for i in range(count)]
    return probe


def classes_fit(spec: dict, classes: Sequence[str]) -> bool | None:
    """Whether the network ends in one output per class in ``classes`` (and names that many, if any).

    ``None`` when the network has no flat output to judge (an invalid network; inference reports why).
    """
    from cnnstudio.core.inference import infer
    from cnnstudio.core.tasks import DEFAULT_TASK, get_task, is_task

    out = infer(with_placeholder_classes(spec)).output_shape
    name = spec.get("task", DEFAULT_TASK)
    count = get_task(name if is_task(name) else DEFAULT_TASK).class_count(out) if out is not None else None
    if count is None:
        return None
    named = spec.get("classes") if isinstance(spec.get("classes"), list) else []
    return count == len(classes) and (not named or len(named) == len(classes))
