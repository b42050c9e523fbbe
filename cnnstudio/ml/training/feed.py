"""The data feed: the whole dataset as tensors on the training device, served as seeded index batches.

Normalised once up front (augmented training images are normalised per batch, after the augmentation,
which works in [0, 1]); when the data does not fit on the GPU it stays in pinned CPU memory and each
batch is copied over. Batches are slices of a seeded permutation of the image indices: the one place
an epoch's order is made (:meth:`DataFeed.order`), so sharding it across processes is a change here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from cnnstudio.ml.tasks import TaskRuntime


def _pin(t: torch.Tensor, device) -> torch.Tensor:
    return t.pin_memory() if device.type == "cuda" else t


def _to(tensors: tuple, device) -> tuple:
    return tuple(t.to(device, non_blocking=True) for t in tensors)


def place(tensors: list, device) -> tuple[bool, list]:
    """``tensors`` moved to ``device`` (True), or left on the CPU when they do not fit there (False)."""
    if device.type == "cpu":
        return True, tensors
    try:
        return True, [_pin(t, device).to(device, non_blocking=True) for t in tensors]
    except torch.OutOfMemoryError:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return False, tensors


def batch_normaliser(pre, channels: int, device):
    """``(x - mean) / std`` with the constants on ``device`` (for augmented batches)."""
    mean = torch.tensor([float(v) for v in pre.mean], device=device).view(1, -1, 1, 1).expand(1, channels, 1, 1)
    std = torch.tensor([float(v) for v in pre.std], device=device).view(1, -1, 1, 1).expand(1, channels, 1, 1)
    return lambda x: (x - mean) / std


class DataFeed:
    """Training and validation images with the task's targets, batch by batch, on ``device``."""

    def __init__(self, data: Any, task: TaskRuntime, device, pre, batch_size: int, augment: Any = None,
                 shard: Any = None):
        from cnnstudio.ml.preprocess import normalize
        from cnnstudio.ml.training.distributed import SINGLE

        self.task, self.device, self.augment = task, device, augment
        self.shard = shard or SINGLE  # this process's part of a distributed run (training/distributed.py)
        train_x = data.train_x if augment is not None else normalize(data.train_x, pre)
        train_t, val_t = task.targets(data, "train"), task.targets(data, "val")
        tensors = [train_x.contiguous(), *train_t, normalize(data.val_x, pre).contiguous(), *val_t]
        self.on_device, tensors = place(tensors, device)
        k = len(train_t)
        self.train_x, self.train_t = tensors[0], tuple(tensors[1:1 + k])
        self.val_x, self.val_t = tensors[1 + k], tuple(tensors[2 + k:])
        self.n_train, self.n_val = int(self.train_x.shape[0]), int(self.val_x.shape[0])
        n_local = self.shard.local_count(self.n_train)  # images per epoch of this process (all of them in one)
        self.batch_size = min(self.shard.local_batch(batch_size), n_local)
        self.batches = math.ceil(n_local / self.batch_size)
        if n_local % self.batch_size == 1:  # a batch of one breaks batch norm: it joins the last batch
            self.batches -= 1
        channels = int(self.train_x.shape[1])
        self._normalise = batch_normaliser(pre, channels, device) if augment is not None else None
        self._aug_gen = torch.Generator(device=device) if augment is not None else None
        self._perm_gen = torch.Generator()

    def order(self, epoch_seed: int) -> torch.Tensor:
        """The epoch's image order (a seeded permutation; augmentation noise is seeded alongside)."""
        self._perm_gen.manual_seed(epoch_seed)
        if self._aug_gen is not None:
            self._aug_gen.manual_seed(epoch_seed)
        perm = self.shard.epoch_indices(torch.randperm(self.n_train, generator=self._perm_gen))
        return perm.to(self.device, non_blocking=True) if self.on_device else perm

    def batch(self, perm: torch.Tensor, b: int) -> tuple[torch.Tensor, tuple]:
        """Images and targets of batch ``b`` (0-based) of the order ``perm``, ready for the model."""
        bs = self.batch_size
        idx = perm[b * bs:(b + 1) * bs] if b < self.batches - 1 else perm[b * bs:]
        xb, targets = self.train_x[idx], tuple(t[idx] for t in self.train_t)
        if not self.on_device:
            xb, targets = xb.pin_memory().to(self.device, non_blocking=True), _to(targets, self.device)
        if self.augment is not None:
            xb, targets = self.task.augment(self.augment, xb, targets, self._aug_gen)
            xb = self._normalise(xb)
        return xb, targets

    def val_batches(self, size: int) -> Iterator[tuple[torch.Tensor, tuple]]:
        """The validation set in batches of ``size``, on the device."""
        first, end = self.shard.val_range(self.n_val)  # all of them in one process
        for start in range(first, end, size):
            stop = min(start + size, end)
            xb, targets = self.val_x[start:stop], tuple(t[start:stop] for t in self.val_t)
            if not self.on_device:
                xb, targets = xb.to(self.device, non_blocking=True), _to(targets, self.device)
            yield xb, targets

    def val_targets(self) -> tuple:
        return self.val_t if self.on_device else _to(self.val_t, self.device)
