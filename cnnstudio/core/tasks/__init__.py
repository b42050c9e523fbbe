"""Tasks as a registry (classification, localization, detection, segmentation).

Adding a task is one module here (a :class:`TaskType` registered with :func:`register_task`) and one
in :mod:`cnnstudio.ml.tasks` (its targets, loss, metrics, decoding and overlay); see docs/dev/.
"""

from cnnstudio.core.tasks import classification, detection, localization, segmentation  # noqa: F401 - registers the built-in tasks
from cnnstudio.core.tasks.base import (
    DEFAULT_TASK,
    TaskType,
    all_tasks,
    get_task,
    head_keys,
    is_task,
    register_task,
    task_names,
    task_of,
    task_problems,
    unknown_task_message,
    unregister_task,
)

__all__ = [
    "DEFAULT_TASK", "TaskType", "all_tasks", "get_task", "head_keys", "is_task", "register_task",
    "task_names", "task_of", "task_problems", "unknown_task_message", "unregister_task",
]
