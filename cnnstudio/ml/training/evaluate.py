"""Evaluation: the validation loss and the task's metrics (accuracy, confusion, IoU ...) in one pass."""

from __future__ import annotations

from typing import Any

import torch

from cnnstudio.ml.tasks import as_outputs


def evaluate(model: torch.nn.Module, feed: Any, cfg: Any, autocast, num_classes: int, batch: int) -> dict:
    """The task's validation results (see TaskRuntime.evaluate) plus ``loss``, the mean validation loss."""
    model.eval()
    feed.shard.sync_buffers(model)  # several processes: all evaluate rank 0's batch norm statistics
    loss_sum = torch.zeros((), device=feed.device)
    parts: list[tuple] = []
    with torch.inference_mode():
        for xb, targets in feed.val_batches(batch):
            with autocast():
                outputs = as_outputs(model(xb))
            outputs = tuple(o.float() for o in outputs)
            loss_sum += feed.task.loss(outputs, targets, cfg, "sum")
            parts.append(outputs)
        outputs = tuple(torch.cat(column) for column in zip(*parts))
        outputs, loss_sum = feed.shard.gather_val(outputs, loss_sum, feed.n_val)  # all processes' parts
        result = feed.task.evaluate(outputs, feed.val_targets(), num_classes)
    result["loss"] = float(loss_sum) / max(1, feed.n_val)
    return result
