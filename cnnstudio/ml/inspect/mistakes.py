"""A model's most confident mistakes on the validation set: what it gets wrong while being sure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mistake:
    index: int  # into the validation set
    true: int
    predicted: int
    confidence: float  # the probability given to the wrong class
    true_probability: float


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, limit: int | None = None) -> list[Mistake]:
    """Misclassified samples, most confident first (probabilities (N, K), labels (N,))."""
    probs = np.asarray(probabilities, dtype=np.float32)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if len(probs) != len(labels):
        raise ValueError(f"{len(probs)} predictions for {len(labels)} labels")
    if len(probs) == 0:
        return []
    predicted = probs.argmax(axis=1)
    confidence = probs[np.arange(len(probs)), predicted]
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    if limit is not None:
        order = order[:limit]
    true_p = probs[order, labels[order].clip(0, probs.shape[1] - 1)] if len(order) else np.zeros(0)
    return [
        Mistake(int(i), int(labels[i]), int(predicted[i]), float(confidence[i]), float(tp))
        for i, tp in zip(order, true_p)
    ]


def sort_mistakes(mistakes: list[Mistake], key: str = "confidence", descending: bool = True) -> list[Mistake]:
    """Re-sort mistakes by "confidence", "true" class, "predicted" class or "index"."""
    if key not in ("confidence", "true", "predicted", "index", "true_probability"):
        raise ValueError(f"cannot sort mistakes by {key!r}")
    return sorted(mistakes, key=lambda m: getattr(m, key), reverse=descending)


def model_mistakes(model, x01, labels, limit: int | None = None) -> list[Mistake]:
    """Run an InspectModel over dataset samples (N, C, H, W) in [0, 1] and list its confident mistakes."""
    probs, _boxes = model.predict_batch(model.prepare_samples(x01))
    labels_np = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
    return confident_mistakes(probs, labels_np, limit)
