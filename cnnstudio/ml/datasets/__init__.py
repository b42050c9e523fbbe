"""Datasets as tensors: built-in digits and shapes, image folders, YOLO folders, MNIST/Fashion-MNIST/CIFAR-10.

``load_dataset(config)`` takes the project's "data" dict and returns a :class:`DatasetBundle`.
``iter_load_dataset(config)`` is the same work as a generator of :class:`LoadProgress` events whose
return value is the bundle (the GUI runs it on a worker thread, the CLI drives it with a progress bar).
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from cnnstudio.core.data_config import normalize_data_config
from cnnstudio.ml.datasets.bundle import DatasetBundle, convert_images
from cnnstudio.ml.datasets.events import LoadProgress

__all__ = ["DatasetBundle", "LoadProgress", "convert_images", "iter_load_dataset", "load_dataset"]


def iter_load_dataset(config: dict | str) -> Generator[LoadProgress, None, DatasetBundle]:
    """Load a dataset, yielding progress; the generator's return value is the :class:`DatasetBundle`.

    Raises :class:`cnnstudio.core.errors.UserError` with one clear sentence for a bad configuration,
    a missing or empty folder, or missing dataset files.
    """
    cfg = normalize_data_config(config)
    source = cfg["source"]
    if source == "digits":
        from cnnstudio.ml.datasets.digits import iter_load_digits as loader
    elif source == "shapes":
        from cnnstudio.ml.datasets.shapes import iter_load_shapes as loader
    elif source == "folder":
        from cnnstudio.ml.datasets.folder import iter_load_folder as loader
    elif source == "yolo":
        from cnnstudio.ml.datasets.yolo import iter_load_yolo as loader
    elif source == "multishapes":
        from cnnstudio.ml.datasets.multishapes import iter_load_multishapes as loader
    elif source == "scenes":
        from cnnstudio.ml.datasets.multishapes import iter_load_scenes as loader
    elif source == "coco":
        from cnnstudio.ml.datasets.coco import iter_load_coco as loader
    else:
        from cnnstudio.ml.datasets.torchvision_sets import iter_load_torchvision as loader
    bundle = yield from loader(cfg)
    return bundle


def load_dataset(config: dict | str, progress: Callable[[LoadProgress], None] | None = None) -> DatasetBundle:
    """Load the dataset the "data" dict describes; ``progress`` (if given) receives each LoadProgress."""
    gen = iter_load_dataset(config)
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)
