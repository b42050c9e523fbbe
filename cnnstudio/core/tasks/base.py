"""The task registry: one entry per task a network can be trained for (torch-free).

A :class:`TaskType` says what the task is in words (label, help), what the network's outputs are
called (the ONNX output names, in the order the model returns them), which datasets it trains on,
and the rules for its extra head in the spec (e.g. localization's ``box_head``). The ml side of the
same task (targets, loss, metrics, decoding, overlay) registers under the same name in
:mod:`cnnstudio.ml.tasks`. Nothing outside the task modules branches on a task's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TASK = "classification"


def _no_head_problems(spec: dict) -> list[str]:
    return []


def flat_class_count(output_shape: tuple) -> int | None:
    """The class scores a trunk ending in ``output_shape`` gives: a flat vector's length (else None)."""
    return int(output_shape[0]) if output_shape is not None and len(output_shape) == 1 else None


def classifier_output_problem(last: Any, output_shape: tuple, num_classes: int) -> str | None:
    """Why a trunk whose last layer is ``last`` (a LayerInfo) and ends in ``output_shape`` cannot give
    ``num_classes`` class scores (None when it can): the rule of classification and localization."""
    from cnnstudio.core.registry import format_shape

    label = f"{last.type} {last.id!r}"
    if num_classes == 0:
        return "The network lists no classes; a classifier needs its class names under \"classes\"."
    if len(output_shape) != 1:
        return (
            f"{label}: the network ends with a {format_shape(output_shape)} feature map, but a classifier must "
            f"end with {num_classes} class scores; add flatten and linear layers."
        )
    if output_shape[0] != num_classes:
        return (
            f"{label}: the network ends with {output_shape[0]} values, but there are {num_classes} classes; "
            f"the last layer must output {num_classes}."
        )
    return None


def _no_model_props(spec: dict) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class TaskType:
    """One task: its words, outputs, data and head rules."""

    name: str
    label: str  # for menus: "Localization (class + box)"
    help: str  # a tooltip sentence
    outputs: tuple[str, ...]  # the model's outputs by name, in order ("logits", "bbox")
    data_targets: tuple[str, ...]  # what a dataset of this task holds per image: ("labels",), ("labels", "boxes")
    trains_on: tuple[str, ...]  # the dataset tasks a network of this task can learn from
    data_label: str = ""  # a dataset of this task, in a summary line: "localization (class + box)"
    no_data_message: str = ""  # the sentence when the data is of a task it cannot train on
    data_notes: dict[str, str] = field(default_factory=dict)  # dataset task -> note (e.g. boxes unused)
    head_key: str | None = None  # the spec entry of an extra head branching off the trunk ("box_head")
    head_size: int = 0  # values the head ends in (4 for a box)
    head_values: str = ""  # what those values are, for messages: "(x, y, w, h)"
    head_problems: Callable[[dict], list[str]] = _no_head_problems  # the head entry's rules, as sentences
    default_head: Callable[[dict], dict] | None = None  # spec -> spec with a default head added
    # the trunk's end: class scores in an output shape, and the rule for it (last LayerInfo, shape, classes)
    class_count: Callable[[tuple], int | None] = flat_class_count
    output_problem: Callable[[Any, tuple, int], str | None] = classifier_output_problem
    model_props: Callable[[dict], dict[str, str]] = _no_model_props  # extra ONNX metadata (e.g. decoding)

    def can_train_on(self, data_task: str) -> bool:
        return data_task in self.trains_on


_TASKS: dict[str, TaskType] = {}


def register_task(task: TaskType) -> TaskType:
    """Add ``task`` to the registry (a name already registered is replaced)."""
    _TASKS[task.name] = task
    return task


def unregister_task(name: str) -> None:
    """Remove a task (tests that register a toy one call this when done)."""
    _TASKS.pop(name, None)


def task_names() -> tuple[str, ...]:
    return tuple(_TASKS)


def all_tasks() -> list[TaskType]:
    return list(_TASKS.values())


def is_task(name: Any) -> bool:
    return isinstance(name, str) and name in _TASKS


def get_task(name: Any) -> TaskType:
    """The registry entry for ``name``; ``KeyError`` with a sentence naming the known tasks."""
    if not is_task(name):
        raise KeyError(unknown_task_message(name))
    return _TASKS[name]


def unknown_task_message(name: Any) -> str:
    names = [f"'{n}'" for n in _TASKS]
    known = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)
    return f"The task must be {known} (found {name!r})."


def task_of(spec: dict) -> TaskType:
    """The task of a network spec (classification when it names none)."""
    return get_task(spec.get("task", DEFAULT_TASK))


def head_keys() -> tuple[str, ...]:
    """The spec entries of all registered tasks' heads ("box_head", ...)."""
    return tuple(t.head_key for t in _TASKS.values() if t.head_key)


def task_problems(spec: dict) -> list[str]:
    """The spec's task and head entries against the registry, as sentences."""
    name = spec.get("task", DEFAULT_TASK)
    if not is_task(name):
        return [unknown_task_message(name)]
    task = _TASKS[name]
    problems = list(task.head_problems(spec)) if task.head_key else []
    for other in _TASKS.values():
        key = other.head_key
        if key and key != task.head_key and key in spec:
            problems.append(f'Only a {other.name} network has a "{key}"; set "task" to "{other.name}" or remove it.')
    return problems
