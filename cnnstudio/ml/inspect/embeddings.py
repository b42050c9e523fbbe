"""Penultimate-layer embeddings, nearest neighbours and a 2-D map of them.

The vector a classifier's last layer reads is a learned description of the image: images close in that
space look alike to the network (the lecture's "customers who bought this also liked" example). We take
the input of the last linear layer (PyTorch) or of the last Gemm/MatMul node (ONNX).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError


def embed(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Embeddings (N, D) of a normalised float32 (N, C, H, W) batch for an InspectModel."""
    x = np.asarray(x, dtype=np.float32)
    chunks = []
    if model.onnx is not None:
        name = model.onnx.penultimate_tensor()
        if name is None:
            raise UserError("This ONNX model has no final Gemm/MatMul layer whose input could serve as an embedding.")
        for start in range(0, len(x), batch_size):
            values = model.onnx.run(np.ascontiguousarray(x[start : start + batch_size]), [name])
            chunks.append(values[name].reshape(len(values[name]), -1))
    else:
        for start in range(0, len(x), batch_size):
            chunks.append(torch_embeddings(model.torch_model, x[start : start + batch_size]))
    if not chunks:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(chunks).astype(np.float32)


def penultimate_module(model: Any) -> Any:
    """The last ``nn.Linear`` of the model's layers (or the last layer): its input is the embedding."""
    import torch.nn as nn

    from cnnstudio.ml.inspect.features import torch_layer_modules

    layers = list(torch_layer_modules(model).values()) or [m for _, m in model.named_modules()][1:]
    if not layers:
        raise UserError("This model has no layers to take an embedding from.")
    linear = [m for m in layers if isinstance(m, nn.Linear)]
    return linear[-1] if linear else layers[-1]


def torch_embeddings(model: Any, x: Any) -> np.ndarray:
    """The input of :func:`penultimate_module`, flattened, for a (N, C, H, W) batch."""
    import torch

    module = penultimate_module(model)
    store: dict[str, Any] = {}

    def pre_hook(_m, inputs):
        store["x"] = inputs[0]

    handle = module.register_forward_pre_hook(pre_hook)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        with torch.inference_mode():
            model(torch.as_tensor(np.asarray(x, dtype=np.float32)).to(device))
    finally:
        handle.remove()
    value = store["x"]
    return value.reshape(value.shape[0], -1).float().cpu().numpy()


@dataclass(frozen=True)
class Neighbours:
    indices: np.ndarray  # (k,) into the indexed set, nearest first
    distances: np.ndarray  # (k,) Euclidean


class NeighbourIndex:
    """Exact Euclidean nearest-neighbour search over a set of embeddings (scikit-learn)."""

    def __init__(self, embeddings: np.ndarray):
        from sklearn.neighbors import NearestNeighbors

        self.embeddings = np.asarray(embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or len(self.embeddings) == 0:
            raise UserError("There are no images to search for neighbours in.")
        self._nn = NearestNeighbors(algorithm="brute", metric="euclidean").fit(self.embeddings)

    def __len__(self) -> int:
        return len(self.embeddings)

    def query(self, vector: np.ndarray, k: int = 8, exclude: int | None = None) -> Neighbours:
        """The ``k`` nearest items to ``vector`` (D,); ``exclude`` drops one index (the query itself)."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if vector.shape[1] != self.embeddings.shape[1]:
            raise UserError(f"An embedding of size {vector.shape[1]} cannot be compared with size {self.embeddings.shape[1]}.")
        extra = 1 if exclude is not None else 0
        n = min(len(self), k + extra)
        dist, idx = self._nn.kneighbors(vector, n_neighbors=n)
        dist, idx = dist[0], idx[0]
        if exclude is not None:
            keep = idx != exclude
            dist, idx = dist[keep], idx[keep]
        return Neighbours(idx[:k].astype(np.int64), dist[:k].astype(np.float32))


def project_2d(embeddings: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """A 2-D map (N, 2) of the embeddings: "pca" (instant) or "tsne" (slower, keeps clusters apart)."""
    e = np.asarray(embeddings, dtype=np.float32)
    if e.ndim != 2 or len(e) < 2:
        raise UserError("A 2-D map needs at least two embedded images.")
    if method == "pca":
        from sklearn.decomposition import PCA

        if e.shape[1] < 2:
            return np.concatenate([e, np.zeros_like(e)], axis=1)
        return PCA(n_components=2, random_state=seed).fit_transform(e).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(e) - 1) // 3)))
        return TSNE(n_components=2, random_state=seed, init="pca", perplexity=perplexity).fit_transform(e).astype(np.float32)
    raise UserError(f"Unknown 2-D map method {method!r}; choose 'pca' or 'tsne'.")
