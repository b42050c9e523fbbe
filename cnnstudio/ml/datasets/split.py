"""Seeded, stratified train/validation split (same seed, same split, on every machine)."""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)``: ``round(n_c * val_fraction)`` images of each class c go to validation.

    A class with at least two images keeps at least one on each side. Both index arrays are shuffled
    with the same seeded generator, so the split depends only on the labels, the fraction and the seed.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_val = int(round(len(idx) * val_fraction))
        if len(idx) >= 2:
            n_val = min(max(n_val, 1), len(idx) - 1)
        else:
            n_val = 0
        val_parts.append(idx[:n_val])
        train_parts.append(idx[n_val:])
    empty = np.zeros(0, dtype=np.int64)
    train = np.concatenate(train_parts) if train_parts else empty
    val = np.concatenate(val_parts) if val_parts else empty
    return train[rng.permutation(len(train))].astype(np.int64), val[rng.permutation(len(val))].astype(np.int64)


def seeded_subset(n: int, max_samples: int, seed: int) -> np.ndarray | None:
    """Sorted indices of a seeded random subset of ``max_samples`` of ``n`` items, or None for all."""
    if not max_samples or max_samples >= n:
        return None
    rng = np.random.default_rng(seed + 7919)
    return np.sort(rng.choice(n, size=max_samples, replace=False))
