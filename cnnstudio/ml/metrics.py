"""Evaluation metrics on torch tensors: accuracy, per-class accuracy, confusion matrix, box IoU.

Everything stays on the tensors' device; callers move the (small) results to the CPU once.
Boxes are ``x, y, w, h`` normalised to the image, with ``x, y`` the top-left corner.
"""

from __future__ import annotations

import torch


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(classes, classes) int64 counts: row = true class, column = predicted class."""
    targets = targets.reshape(-1).long()
    predictions = predictions.reshape(-1).long()
    flat = targets * num_classes + predictions
    counts = torch.bincount(flat, minlength=num_classes * num_classes)
    return counts[: num_classes * num_classes].reshape(num_classes, num_classes)


def accuracy(targets: torch.Tensor, predictions: torch.Tensor) -> float:
    """The fraction of predictions equal to the targets (0.0 for no samples)."""
    if targets.numel() == 0:
        return 0.0
    return float((targets.reshape(-1) == predictions.reshape(-1)).float().mean())


def accuracy_from_confusion(matrix: torch.Tensor) -> float:
    total = int(matrix.sum())
    return float(matrix.diagonal().sum()) / total if total else 0.0


def per_class_accuracy(matrix: torch.Tensor) -> list[float | None]:
    """Recall per class from a confusion matrix; ``None`` for a class with no samples."""
    totals = matrix.sum(dim=1).tolist()
    hits = matrix.diagonal().tolist()
    return [(h / t if t else None) for h, t in zip(hits, totals)]


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-row IoU of two (N, 4) ``x, y, w, h`` box tensors (not all pairs)."""
    ax1, ay1 = a[:, 0], a[:, 1]
    ax2, ay2 = ax1 + a[:, 2].clamp(min=0), ay1 + a[:, 3].clamp(min=0)
    bx1, by1 = b[:, 0], b[:, 1]
    bx2, by2 = bx1 + b[:, 2].clamp(min=0), by1 + b[:, 3].clamp(min=0)
    iw = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
    ih = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union.clamp(min=1e-9)


def giou_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Generalised-IoU loss (1 - GIoU) of (N, 4) ``x, y, w, h`` boxes; ``reduction`` mean, sum or none."""
    px1, py1 = pred[:, 0], pred[:, 1]
    px2, py2 = px1 + pred[:, 2], py1 + pred[:, 3]
    tx1, ty1 = target[:, 0], target[:, 1]
    tx2, ty2 = tx1 + target[:, 2], ty1 + target[:, 3]
    iw = (torch.minimum(px2, tx2) - torch.maximum(px1, tx1)).clamp(min=0)
    ih = (torch.minimum(py2, ty2) - torch.maximum(py1, ty1)).clamp(min=0)
    inter = iw * ih
    union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter
    iou = inter / union.clamp(min=1e-9)
    cw = torch.maximum(px2, tx2) - torch.minimum(px1, tx1)
    ch = torch.maximum(py2, ty2) - torch.minimum(py1, ty1)
    hull = (cw * ch).clamp(min=1e-9)
    loss = 1.0 - (iou - (hull - union) / hull)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
