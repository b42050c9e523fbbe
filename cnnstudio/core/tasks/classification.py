"""Classification: one score per class (``logits``); trains on any labelled images."""

from __future__ import annotations

from cnnstudio.core.tasks.base import TaskType, register_task

CLASSIFICATION = register_task(TaskType(
    name="classification",
    label="Classification",
    help="Classification: one class score per class.",
    outputs=("logits",),
    data_targets=("labels",),
    trains_on=("classification", "localization"),
    data_label="classification",
    data_notes={"localization": "The network is a classifier: it learns the class labels and the boxes are not used."},
))
