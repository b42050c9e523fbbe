"""The state of one inspection: a model, a dataset, the current input and what the model makes of it.

No Qt: the Inspect workspace drives it and redraws from it; tests and the benchmark use it directly.
Expensive results over the whole dataset (embeddings, mistakes) are computed on first use and cached
until the model or dataset changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.inspect.embeddings import NeighbourIndex, Neighbours, project_2d
from cnnstudio.ml.inspect.mistakes import Mistake, confident_mistakes
from cnnstudio.ml.inspect.models import Analysis, InspectModel


@dataclass(frozen=True)
class InputImage:
    """The current input: what to show (uint8 RGB or gray) and what the network gets (1, C, H, W)."""

    display: np.ndarray
    tensor: np.ndarray
    title: str
    label: int | None = None  # the true class when known (dataset sample)
    box: tuple[float, float, float, float] | None = None  # the true box when known
    sample: int | None = None  # validation index
    objects: np.ndarray | None = None  # the true objects (T, 5) class, x, y, w, h when known (detection data)
    mask: np.ndarray | None = None  # the true class of every pixel when known (segmentation data)


def sample_display(x01: Any) -> np.ndarray:
    """A dataset sample (C, H, W) in [0, 1] as uint8 (H, W) or (H, W, 3)."""
    arr = x01.detach().cpu().numpy() if hasattr(x01, "detach") else np.asarray(x01)
    img = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    return img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)


def network_view(tensor: np.ndarray, mean, std) -> np.ndarray:
    """The (1, C, H, W) normalised network input back as uint8 (H, W) or (H, W, 3): what the model sees
    after resizing and inverting (``mean``/``std``: the model's per-channel preprocessing, or scalars)."""
    x = np.asarray(tensor, dtype=np.float32)[0]
    channels = x.shape[0]
    m = np.resize(np.asarray(mean, dtype=np.float32), channels).reshape(-1, 1, 1)
    s = np.resize(np.asarray(std, dtype=np.float32), channels).reshape(-1, 1, 1)
    return sample_display(x * s + m)


class InspectSession:
    def __init__(self) -> None:
        self.model: InspectModel | None = None
        self.dataset: Any = None  # a DatasetBundle fitted to the model's input
        self.raw_dataset: Any = None  # as loaded
        self.input: InputImage | None = None
        self.analysis: Analysis | None = None
        self._embeddings: np.ndarray | None = None
        self._index: NeighbourIndex | None = None
        self._map: np.ndarray | None = None
        self._mistakes: list[Mistake] | None = None

    # --- setting things ------------------------------------------------------------------------
    def set_model(self, model: InspectModel) -> None:
        self.model = model
        self._fit_dataset()
        self._clear_cache()
        if self.input is not None and self.input.sample is not None and self.dataset is not None:
            self.use_sample(self.input.sample)
        elif self.input is not None:
            self.use_image(self.input.display, self.input.title)
        else:
            self.analysis = None

    def set_dataset(self, bundle: Any) -> None:
        """Use ``bundle``; a validation sample shown as the input is replaced by the new set's sample."""
        self.raw_dataset = bundle
        self._fit_dataset()
        self._clear_cache()
        if self.model is not None and self.input is not None and self.input.sample is not None:
            if self.sample_count:
                self.use_sample(min(self.input.sample, self.sample_count - 1))
            else:
                self.input = self.analysis = None

    def _fit_dataset(self) -> None:
        if self.raw_dataset is None or self.model is None:
            self.dataset = self.raw_dataset
            return
        c, h, w = self.model.meta.input_shape
        self.dataset = self.raw_dataset.fit_to(c, h, w) if self.raw_dataset.input_shape != (c, h, w) else self.raw_dataset

    def _clear_cache(self) -> None:
        self._embeddings = self._index = self._map = None
        self._mistakes = None

    @property
    def sample_count(self) -> int:
        return int(len(self.dataset.val_x)) if self.dataset is not None else 0

    def use_sample(self, index: int) -> Analysis:
        """Make validation sample ``index`` the input and analyse it."""
        model = self._need_model()
        if self.dataset is None or self.sample_count == 0:
            raise UserError("No dataset is loaded, or its validation set is empty.")
        index = int(index) % self.sample_count
        x01 = self.dataset.val_x[index : index + 1]
        label = int(self.dataset.val_y[index])
        box = None
        if getattr(self.dataset, "val_boxes", None) is not None:
            box = tuple(float(v) for v in self.dataset.val_boxes[index])
        name = self.dataset.classes[label] if label < len(self.dataset.classes) else str(label)
        objects = getattr(self.dataset, "val_objects", None)
        if objects is not None:
            objects = objects[index].cpu().numpy()
            objects = objects[objects[:, 0] >= 0]
        masks = getattr(self.dataset, "val_masks", None)
        mask = masks[index].cpu().numpy().astype(np.uint8) if masks is not None else None
        self.input = InputImage(sample_display(x01[0]), model.prepare_samples(x01), f"validation sample {index} (class {name})",
                                label, box, index, objects, mask)  # type: ignore[arg-type]
        return self.refresh()

    def use_image(self, image: np.ndarray, title: str = "image") -> Analysis:
        """Make a natural image (uint8 gray or RGB; a file, a camera frame) the input and analyse it."""
        model = self._need_model()
        self.input = InputImage(np.asarray(image), model.prepare_image(np.asarray(image)), title)
        return self.refresh()

    def refresh(self) -> Analysis:
        model = self._need_model()
        if self.input is None:
            raise UserError("Choose an input image first.")
        self.analysis = model.analyse(self.input.tensor)
        return self.analysis

    def _need_model(self) -> InspectModel:
        if self.model is None:
            raise UserError("No model is open.")
        return self.model

    # --- dataset-wide results ------------------------------------------------------------------
    def _need_dataset(self) -> Any:
        if self.dataset is None or self.sample_count == 0:
            raise UserError("Similar images and mistakes need a dataset; the project's dataset is not loaded.")
        return self.dataset

    def embeddings(self) -> np.ndarray:
        """Penultimate-layer embeddings of every validation sample (cached)."""
        if self._embeddings is None:
            model, data = self._need_model(), self._need_dataset()
            self._embeddings = model.embed_batch(model.prepare_samples(data.val_x))
        return self._embeddings

    def neighbours(self, k: int = 8) -> Neighbours:
        """The current input's nearest validation samples (the input itself excluded when it is one)."""
        model = self._need_model()
        if self._index is None:
            self._index = NeighbourIndex(self.embeddings())
        if self.input is None:
            raise UserError("Choose an input image first.")
        if self.input.sample is not None:
            vector = self.embeddings()[self.input.sample]
        else:
            vector = model.embed_batch(self.input.tensor)[0]
        return self._index.query(vector, k, exclude=self.input.sample)

    def embedding_map(self, method: str = "pca") -> np.ndarray:
        """A 2-D map (N, 2) of the validation embeddings (cached for PCA)."""
        if method != "pca":
            return project_2d(self.embeddings(), method)
        if self._map is None:
            self._map = project_2d(self.embeddings(), "pca")
        return self._map

    def mistakes(self) -> list[Mistake]:
        """The validation set's misclassified samples, most confident first (cached)."""
        if self._mistakes is None:
            model, data = self._need_model(), self._need_dataset()
            probs, _ = model.predict_batch(model.prepare_samples(data.val_x))
            if probs.shape[1] != len(data.classes):
                raise UserError(
                    f"The model predicts {probs.shape[1]} classes but the dataset has {len(data.classes)}; "
                    "its mistakes cannot be listed."
                )
            self._mistakes = confident_mistakes(probs, data.val_y.numpy())
        return self._mistakes

    def validation_accuracy(self) -> float:
        data = self._need_dataset()
        return 1.0 - len(self.mistakes()) / max(1, len(data.val_y))
