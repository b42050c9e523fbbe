"""An image folder with one sub-folder per class (the layout of torchvision's ImageFolder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.events import LoadProgress
from cnnstudio.ml.datasets.scan import is_image_file, list_images, read_image, stack_images
from cnnstudio.ml.datasets.split import seeded_subset, stratified_split

_PROGRESS_EVERY = 32


def existing_folder(path_text: str, what: str) -> Path:
    """The folder ``path_text`` names, or a UserError saying what is wrong with it."""
    if not path_text.strip():
        raise UserError(f"Choose a folder for the {what}.")
    path = Path(path_text).expanduser()
    if not path.exists():
        raise UserError(f"The folder {path} does not exist.")
    if not path.is_dir():
        raise UserError(f"{path} is a file; choose the folder that holds the {what}.")
    return path


def find_class_folders(root: Path) -> list[tuple[str, list[Path]]]:
    """``(class name, image files)`` for each sub-folder of ``root`` holding at least one image."""
    classes = []
    for sub in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name.lower()):
        files = list_images(sub)
        if files:
            classes.append((sub.name, files))
    if classes:
        return classes
    if (root / "images").is_dir() and (root / "labels").is_dir():
        raise UserError(f"{root} is in YOLO layout (images/ and labels/); choose the 'YOLO folder' source for it.")
    if any(is_image_file(p) for p in root.iterdir()):
        raise UserError(
            f"{root} holds images but no class sub-folders; put each class's images in its own "
            f"sub-folder (for example {root / 'cat'} and {root / 'dog'})."
        )
    raise UserError(f"{root} holds no images (.png, .jpg, .bmp or .webp) in class sub-folders.")


def read_images(files: list[Path], size: int, label_of, skipped: list[tuple[str, str]], what: str):
    """Generator over files: reads each (skipping bad ones into ``skipped``) and returns (images, kept)."""
    images, kept = [], []
    total = len(files)
    for i, path in enumerate(files):
        if i % _PROGRESS_EVERY == 0:
            yield LoadProgress(i, total, f"Reading {what}: {i} of {total} images")
        image, reason = read_image(path, size)
        if image is None:
            skipped.append((str(path), reason))
            continue
        images.append(image)
        kept.append(label_of(i))
    yield LoadProgress(total, total, f"Read {len(images)} of {total} images")
    return images, kept


def iter_load_folder(cfg: dict):
    """Generator: progress events, returns a classification :class:`DatasetBundle` of a class-folder tree."""
    from cnnstudio.ml.datasets.bundle import DatasetBundle

    root = existing_folder(cfg["path"], "image folder (one sub-folder per class)")
    yield LoadProgress(0, 0, f"Scanning {root}")
    class_folders = find_class_folders(root)
    if len(class_folders) < 2:
        name = class_folders[0][0]
        raise UserError(
            f"{root} has only one class sub-folder ('{name}'); a classifier needs at least two classes."
        )
    classes = [name for name, _ in class_folders]
    files = [f for _, fs in class_folders for f in fs]
    labels = np.array([c for c, (_, fs) in enumerate(class_folders) for _ in fs], dtype=np.int64)
    subset = seeded_subset(len(files), cfg.get("max_samples", 0), cfg["seed"])
    if subset is not None:
        files = [files[i] for i in subset]
        labels = labels[subset]
    skipped: list[tuple[str, str]] = []
    images, kept = yield from read_images(files, cfg["image_size"], lambda i: labels[i], skipped, root.name)
    if not images:
        raise UserError(f"None of the {len(files)} images in {root} could be read; all are corrupt or unsupported.")
    x_np, _ = stack_images(images, cfg.get("channels", "auto"))
    y_np = np.asarray(kept, dtype=np.int64)
    train, val = stratified_split(y_np, cfg["val_fraction"], cfg["seed"])
    # facts: the files as they are (resized, not cropped), measured; ink by the border rule
    return DatasetBundle.from_split(x_np, y_np, train, val, classes=classes, task="classification",
                                    skipped=skipped, name=root.name)
