"""The network spec: one JSON description of a network (format ``cnnstudio-network``, version 1).

:func:`load_spec` reads a template name, a file or a dict, checks the format and version (migrating
older versions), checks the structure and fills every layer's PyTorch defaults and ``trainable``.
Structural problems (not a spec, unknown layer types, duplicate ids) raise :class:`UserError`;
parameter values and shapes are checked by :func:`cnnstudio.core.inference.infer`, which reports
every problem without raising. The format is documented in ``docs/spec-format.md``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.fileio import atomic_write_json
from cnnstudio.core.formats import read_json, upgrade
from cnnstudio.core.model_meta import INKS, POLARITIES
from cnnstudio.core.registry import LAYER_TYPES
from cnnstudio.core.tasks import get_task, head_keys, is_task, task_problems, unknown_task_message

SPEC_FORMAT = "cnnstudio-network"
SPEC_VERSION = 1

#: A layer id: letters, digits, '_' and '-', starting with a letter (a PyTorch module name).
LAYER_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")

#: Names PyTorch's ModuleDict / Module already use as attributes: a layer cannot be called so.
RESERVED_IDS = frozenset(
    {
        "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children",
        "clear", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float",
        "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu",
        "items", "keys", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
        "named_modules", "named_parameters", "parameters", "pop", "register_backward_hook",
        "register_buffer", "register_forward_hook", "register_forward_pre_hook",
        "register_full_backward_hook", "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module",
        "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
        "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to",
        "to_empty", "train", "training", "type", "update", "values", "xpu", "zero_grad",
    }
)

_TOP_KEYS = ("format", "version", "name", "description", "input", "task", "classes", "preprocess", "layers", "box_head")
_LAYER_KEYS = ("id", "type", "trainable")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def layer_label(layer: Any) -> str:
    """``conv2d 'c3'`` for messages (robust to broken layers)."""
    if not isinstance(layer, dict):
        return "layer"
    kind = layer.get("type") if isinstance(layer.get("type"), str) else "layer"
    ident = layer.get("id")
    return f"{kind} {ident!r}" if isinstance(ident, str) and ident else kind


def fill_layer_defaults(layer: dict) -> dict:
    """A copy of ``layer`` with every missing parameter set to its PyTorch default and ``trainable``.

    A pooling layer's missing (or null) stride becomes its kernel size, as in PyTorch.
    """
    layer_type = LAYER_TYPES[layer["type"]]
    out = {"id": layer.get("id"), "type": layer["type"]}
    for spec in layer_type.params:
        value = layer.get(spec.name, spec.default)
        out[spec.name] = list(value) if isinstance(value, tuple) else value
    if layer_type.category == "Pooling" and "stride" in out and layer.get("stride") is None:
        out["stride"] = out["kernel_size"]
    out["trainable"] = layer.get("trainable", True)
    for key, value in layer.items():
        if key not in out:
            out[key] = value
    return out


def structure_problems(spec: Any) -> list[str]:
    """Problems that stop a dict from being read as a spec at all (format aside), as sentences."""
    if not isinstance(spec, dict):
        return ["The network spec must be a JSON object."]
    problems = top_level_problems(spec)
    seen: set[str] = set()
    problems.extend(_layers_problems(spec.get("layers"), "layers", seen))
    task = get_task(spec.get("task", "classification")) if is_task(spec.get("task", "classification")) else None
    head = spec.get(task.head_key) if task is not None and task.head_key else None
    if isinstance(head, dict):  # the task's head (localization: the box head)
        where = task.head_key.replace("_", " ") + " layers"
        problems.extend(_layers_problems(head.get("layers", []), where, seen, allow_empty=True))
    return problems


def top_level_problems(spec: dict) -> list[str]:
    """Problems of the spec outside its layer entries: entries, input, task, classes, box head."""
    problems: list[str] = []
    for key in spec:
        if key not in _TOP_KEYS and key not in head_keys():
            problems.append(f"The network spec has an unknown entry {key!r}.")
    inp = spec.get("input")
    if not isinstance(inp, dict):
        problems.append('The network spec needs an "input" with channels, height and width.')
    else:
        for key in ("channels", "height", "width"):
            value = inp.get(key)
            if not _is_int(value) or value < 1:
                problems.append(f"The input {key} must be a whole number of at least 1 (found {value!r}).")
    task = spec.get("task", "classification")
    if not is_task(task):
        problems.append(unknown_task_message(task))
    classes = spec.get("classes", [])
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        problems.append("The classes must be a list of class names.")
    elif len(set(classes)) != len(classes):
        problems.append("The class names must be different from each other.")
    pre = spec.get("preprocess", {})
    if not isinstance(pre, dict):
        problems.append('The "preprocess" entry must be an object with mean and std.')
    else:
        for key in ("mean", "std"):
            value = pre.get(key)
            if key in pre and not (
                isinstance(value, list)
                and value
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            ):
                problems.append(f"The preprocess {key} must be a list of numbers.")
            elif key in pre and isinstance(inp, dict) and len(value) not in (1, inp.get("channels")):
                problems.append(
                    f"The preprocess {key} has {len(value)} values; give one per input channel "
                    f"({inp.get('channels')})."
                )
        if isinstance(pre.get("std"), list) and any(v == 0 for v in pre["std"]):
            problems.append("The preprocess std must not contain 0.")
        if pre.get("polarity", "keep") not in POLARITIES:
            problems.append('The preprocess polarity must be "keep", "invert" or "auto".')
        if pre.get("ink", "") not in INKS:
            problems.append('The preprocess ink must be "light", "dark" or "" (unknown).')
    layers = spec.get("layers")
    if not isinstance(layers, list):
        problems.append("The network spec's layers must be a list of layers.")
    if is_task(task):
        problems.extend(task_problems(spec))  # the task's head rules (core.tasks)
    return problems


def _layers_problems(layers: Any, where: str, seen: set[str], allow_empty: bool = False) -> list[str]:
    if not isinstance(layers, list):
        return []
    problems: list[str] = []
    if not layers and not allow_empty:
        problems.append("The network has no layers.")
    for index, layer in enumerate(layers, start=1):
        problems.extend(layer_structure_problems(layer, index, where, seen))
    return problems


def layer_structure_problems(layer: Any, index: int, where: str, seen: set[str]) -> list[str]:
    """What stops one layer entry from being read (id, type, unknown keys); adds its id to ``seen``."""
    if not isinstance(layer, dict):
        return [f"Entry {index} of the {where} is not a layer object."]
    problems: list[str] = []
    kind = layer.get("type")
    ident = layer.get("id")
    label = layer_label(layer)
    if not isinstance(ident, str) or not ident:
        problems.append(f"Layer {index} of the {where} ({kind}) has no id.")
    elif not LAYER_ID_PATTERN.match(ident) or ident in RESERVED_IDS:
        problems.append(
            f"{label}: the id {ident!r} is not allowed; use letters, digits, '_' and '-' "
            "(starting with a letter) and not a PyTorch name."
        )
    elif ident in seen:
        problems.append(f"{label}: the id {ident!r} is used by more than one layer.")
    else:
        seen.add(ident)
    if kind not in LAYER_TYPES:
        problems.append(f"{label}: unknown layer type {kind!r}.")
        return problems
    allowed = LAYER_TYPES[kind].param_names
    for key in layer:
        if key not in allowed and key not in _LAYER_KEYS:
            problems.append(f"{label}: unknown parameter {key!r}.")
    if "trainable" in layer and not isinstance(layer["trainable"], bool):
        problems.append(f"{label}: trainable must be true or false (found {layer['trainable']!r}).")
    return problems


def normalize_spec(spec: dict) -> dict:
    """A new, filled copy of a structurally valid spec (see :func:`structure_problems`)."""
    out: dict[str, Any] = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "name": str(spec.get("name", "")),
    }
    if "description" in spec:
        out["description"] = str(spec["description"])
    out["input"] = {k: spec["input"][k] for k in ("channels", "height", "width")}
    out["task"] = spec.get("task", "classification")
    out["classes"] = list(spec.get("classes", []))
    pre = dict(spec.get("preprocess") or {})
    channels = out["input"]["channels"]
    pre.setdefault("mean", [0.0] * channels)
    pre.setdefault("std", [1.0] * channels)
    pre["mean"] = list(pre["mean"])
    pre["std"] = list(pre["std"])
    out["preprocess"] = pre
    out["layers"] = [fill_layer_defaults(layer) for layer in spec["layers"]]
    key = get_task(out["task"]).head_key
    if key:
        head = spec[key]
        out[key] = {"from": head["from"], "layers": [fill_layer_defaults(layer) for layer in head.get("layers", [])]}
    return out


def spec_from_dict(data: Any, source: str = "The network spec", lenient: bool = False) -> dict:
    """Check format and version, migrate, check structure, fill defaults; :class:`UserError` if unusable.

    ``lenient``: a dict without format and version (built in code) is taken as the current version.
    """
    if lenient and isinstance(data, dict) and "format" not in data and "version" not in data:
        data = {**data, "format": SPEC_FORMAT, "version": SPEC_VERSION}
    data = upgrade(data, SPEC_FORMAT, SPEC_VERSION, source=source)
    problems = structure_problems(data)
    if problems:
        if len(problems) == 1:
            raise FormatError(f"{source}: {problems[0]}")
        raise FormatError(f"{source} has {len(problems)} problems: " + " ".join(problems))
    return normalize_spec(data)


def load_spec(source: str | os.PathLike | dict) -> dict:
    """A filled spec from a template name (``"lenet5"``), a path to a spec JSON, or a dict."""
    if isinstance(source, dict):
        return spec_from_dict(source, lenient=True)
    if not isinstance(source, (str, os.PathLike)):
        raise UserError(f"A network spec is a template name, a file or a dict, not {type(source).__name__}.")
    from cnnstudio.core.templates import template_names, template_path

    text = os.fspath(source)
    path = Path(text)
    if not path.suffix and os.sep not in text and "/" not in text and not path.exists():
        if text in template_names():
            path = template_path(text)
        else:
            names = ", ".join(template_names())
            raise UserError(f"There is no network template {text!r} and no file of that name; templates: {names}.")
    if path.is_dir():
        candidate = path / "spec.json"
        if candidate.is_file():
            path = candidate
    data = read_json(path, "network spec")
    return spec_from_dict(data, source=f"The network spec {path}")


def save_spec(spec: dict, path: str | os.PathLike) -> None:
    """Write ``spec`` to ``path`` atomically (with format and version)."""
    data = dict(spec)
    data["format"] = SPEC_FORMAT
    data["version"] = SPEC_VERSION
    ordered = {key: data[key] for key in _TOP_KEYS if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    atomic_write_json(path, ordered)


def all_layers(spec: dict) -> list[dict]:
    """The trunk's layers followed by those of a task head (localization's box head)."""
    layers = list(spec.get("layers") or [])
    for key in head_keys():
        head = spec.get(key)
        if isinstance(head, dict) and isinstance(head.get("layers"), list):
            layers.extend(head["layers"])
    return layers


def new_layer_id(spec: dict, type_name: str) -> str:
    """A new unique id for a layer of ``type_name``: ``conv2d_3`` (the next free number)."""
    used = {layer.get("id") for layer in all_layers(spec) if isinstance(layer, dict)}
    count = sum(1 for layer in all_layers(spec) if isinstance(layer, dict) and layer.get("type") == type_name)
    n = count + 1
    while f"{type_name}_{n}" in used:
        n += 1
    return f"{type_name}_{n}"
