"""Does a network fit a dataset? The one place for the rules: task, classes and image shape.

Used by the trainer (it refuses what cannot train), the Data workspace (notes and the fit button),
the Train workspace (the fix offered after a failed start) and ``cnnstudio train --fit-classes``.
Torch-free: it reads the spec, the data's task, class names and image shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnnstudio.core.errors import UserError
from cnnstudio.core.tasks import DEFAULT_TASK, get_task, is_task, unknown_task_message


@dataclass(frozen=True)
class DataFit:
    """How a network and a dataset fit together."""

    task_problem: str | None  # the network cannot learn from this data at all (e.g. boxes wanted, none there)
    classes: bool | None  # one output per data class (None: the network has no flat output to judge)
    outputs: int | None  # the network's class outputs, when known
    n_classes: int
    notes: tuple[str, ...] = ()  # what training does about a difference (image conversion, unused targets)

    @property
    def ok(self) -> bool:
        return self.task_problem is None and self.classes is not False


def task_problem(spec: dict, data_task: str) -> str | None:
    """Why a network of the spec's task cannot train on data of ``data_task`` (None when it can)."""
    name = spec.get("task", DEFAULT_TASK)
    if not is_task(name):
        return unknown_task_message(name)
    task = get_task(name)
    if task.can_train_on(data_task):
        return None
    return task.no_data_message or f"A {task.name} network cannot train on {data_task} data."


def image_note(input_shape: Sequence, image_shape: Sequence) -> str | None:
    """What training does with images of ``image_shape`` for a network taking ``input_shape`` (C, H, W)."""
    want, have = tuple(input_shape), tuple(image_shape)
    if not all(isinstance(v, int) for v in want) or want == have:
        return None
    kind = {1: "gray", 3: "RGB"}.get(want[0], f"{want[0]}-channel")
    return (f"The network takes {want[0]}×{want[1]}×{want[2]}: for training the images are "
            f"converted to {kind} {want[2]}×{want[1]}.")


def network_outputs(spec: dict) -> int | None:
    """How many class scores the network's trunk ends in (None when its output is not a flat vector)."""
    from cnnstudio.core.inference import infer
    from cnnstudio.core.spec_edit import with_placeholder_classes

    out = infer(with_placeholder_classes(spec)).output_shape
    name = spec.get("task", DEFAULT_TASK)
    return get_task(name if is_task(name) else DEFAULT_TASK).class_count(out) if out is not None else None


def classes_message(outputs: int | None, n_classes: int, named: int = 0, remedy: str = "") -> str:
    """The one sentence for a network whose outputs do not match the data's classes."""
    ends = f"ends in {outputs if outputs is not None else '?'} outputs"
    if named and named != outputs:
        ends += f" named for {named} classes"
    remedy = remedy or (f"make the last layer output {n_classes} values "
                        f"(e.g. linear with out_features {n_classes})")
    return f"The network {ends} but the data has {n_classes} classes; {remedy}."


def check_fit(spec: dict, data_task: str, classes: Sequence[str], image_shape: Sequence | None = None) -> DataFit:
    """Task, classes and (when ``image_shape`` is given) image shape of the data against the network."""
    from cnnstudio.core.spec_edit import classes_fit

    problem = task_problem(spec, data_task)
    notes = []
    inp = spec.get("input") if isinstance(spec.get("input"), dict) else {}
    if image_shape is not None:
        note = image_note(tuple(inp.get(k) for k in ("channels", "height", "width")), image_shape)
        if note:
            notes.append(note)
    if problem is None and is_task(spec.get("task", DEFAULT_TASK)):
        note = get_task(spec.get("task", DEFAULT_TASK)).data_notes.get(data_task)
        if note:
            notes.append(note)
    return DataFit(problem, classes_fit(spec, classes), network_outputs(spec), len(classes), tuple(notes))


def classes_for_data(spec: dict, classes: Sequence[str]) -> list:
    """The class names a trained network carries: the data's, unless the spec names a different count."""
    named = spec.get("classes")
    if not named or len(named) == len(classes):
        return list(classes)
    return list(named)


def fit_to_classes(spec: dict, classes: Sequence[str]) -> dict:
    """``spec`` with its last layer resized to one output per data class, named after them; else UserError."""
    from cnnstudio.core.spec_edit import fit_classes

    try:
        return fit_classes(spec, list(classes))
    except ValueError as exc:
        raise UserError(f"The network cannot be fitted to the data's {len(classes)} classes: {exc}.") from None


def fitted_to_data(spec: dict, data_task: str, classes: Sequence[str], refit: bool,
                   remedy: str = "add --fit-classes to resize its last layer to the data's classes") -> tuple[dict, bool]:
    """``(spec, refitted)``: the spec checked against the data (a task mismatch is a UserError); a class
    mismatch is refitted with ``refit``, else a UserError saying ``remedy`` (the commands' --fit-classes)."""
    found = check_fit(spec, data_task, classes)
    if found.task_problem:
        raise UserError(found.task_problem)
    if found.classes is not False:
        return spec, False
    if not refit:
        raise UserError(classes_message(found.outputs, found.n_classes, remedy=remedy))
    return fit_to_classes(spec, classes), True
