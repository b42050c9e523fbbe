"""Classification: cross-entropy on the class scores; accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np

from cnnstudio.ml.tasks.base import Decoded, TaskRuntime, probabilities, register_runtime


class Classification(TaskRuntime):
    name = "classification"

    def targets(self, bundle, split: str) -> tuple:
        return (bundle.train_y if split == "train" else bundle.val_y,)

    def loss(self, outputs: tuple, targets: tuple, config, reduction: str = "mean"):
        import torch.nn.functional as F

        return F.cross_entropy(outputs[0], targets[0], reduction=reduction)

    def hits(self, outputs: tuple, targets: tuple):
        return (outputs[0].detach().argmax(1) == targets[0]).sum()

    def evaluate(self, outputs: tuple, targets: tuple, num_classes: int) -> dict:
        from cnnstudio.ml import metrics as M

        pred = outputs[0].argmax(1)
        confusion = M.confusion_matrix(targets[0], pred, num_classes).cpu()
        return {
            "accuracy": M.accuracy_from_confusion(confusion),
            "per_class": M.per_class_accuracy(confusion),
            "confusion": confusion.numpy(),
            "predictions": pred.cpu().numpy(),
            "boxes": None,
            "row": {},
        }

    def decode(self, values: dict[str, np.ndarray]) -> Decoded:
        scores = values["logits"] if "logits" in values else next(iter(values.values()))
        scores = np.asarray(scores, dtype=np.float32)
        return Decoded(probabilities(scores.reshape(len(scores), -1)))


CLASSIFICATION = register_runtime(Classification())
