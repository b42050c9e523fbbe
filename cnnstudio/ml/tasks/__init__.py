"""The ml side of the tasks (see :mod:`cnnstudio.ml.tasks.base`); one module per task."""

from cnnstudio.ml.tasks import classification, detection, localization, segmentation  # noqa: F401 - registers the built-in tasks
from cnnstudio.ml.tasks.base import (
    Decoded,
    TaskRuntime,
    as_outputs,
    probabilities,
    register_runtime,
    runtime,
    runtime_for_outputs,
    runtime_of_model,
    unregister_runtime,
)

__all__ = [
    "Decoded", "TaskRuntime", "as_outputs", "probabilities", "register_runtime", "runtime", "runtime_for_outputs",
    "runtime_of_model", "unregister_runtime",
]
