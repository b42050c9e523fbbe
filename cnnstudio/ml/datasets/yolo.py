"""A localization folder in YOLO layout: ``images/`` and ``labels/*.txt`` with ``class cx cy w h`` lines.

A localizer predicts one object per image, so each image's box is its largest object; every object
is kept beside it (``*_objects``), which a detector trains on. Labels are converted from YOLO's
normalised centre/size to our normalised top-left ``x, y, w, h``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.events import LoadProgress
from cnnstudio.ml.datasets.folder import existing_folder, read_images
from cnnstudio.ml.datasets.objects import pad_objects
from cnnstudio.ml.datasets.scan import list_images, stack_images
from cnnstudio.ml.datasets.split import seeded_subset, stratified_split


def label_path_for(image: Path) -> Path:
    """``.../images/a/b.jpg`` -> ``.../labels/a/b.txt`` (the last ``images`` component is replaced)."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def parse_label_text(text: str) -> list[tuple[int, float, float, float, float]]:
    """Objects ``(class, x, y, w, h)`` (top-left, normalised, clipped to the image) of one label file.

    Lines are ``class cx cy w h``; a longer line is a segmentation polygon ``class x1 y1 x2 y2 ...``
    and becomes the polygon's bounding box. Raises ValueError naming the first bad line.
    """
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise ValueError(f"label line {number} is not numbers: {line.strip()!r}") from None
        if len(values) < 5 or values[0] != int(values[0]) or values[0] < 0:
            raise ValueError(f"label line {number} is not 'class cx cy w h': {line.strip()!r}")
        cls = int(values[0])
        if len(values) == 5:
            cx, cy, w, h = values[1:]
            x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        else:
            if len(values) % 2 == 0:
                raise ValueError(f"label line {number} has an odd number of polygon coordinates")
            xs, ys = values[1::2], values[2::2]
            x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        x0, y0 = min(max(x0, 0.0), 1.0), min(max(y0, 0.0), 1.0)
        x1, y1 = min(max(x1, 0.0), 1.0), min(max(y1, 0.0), 1.0)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"label line {number} has an empty box: {line.strip()!r}")
        objects.append((cls, x0, y0, x1 - x0, y1 - y0))
    return objects


def _names_from_yaml(text: str) -> list[str] | None:
    """The ``names`` of an Ultralytics data.yaml (list, inline list or ``index: name`` mapping)."""
    try:
        import yaml  # optional: a full YAML parser when present

        data = yaml.safe_load(text)
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, list):
            return [str(n) for n in names]
        if isinstance(names, dict):
            return [str(names[k]) for k in sorted(names, key=int)]
        return None
    except ImportError:
        pass
    except Exception:
        return None
    match = re.search(r"^names:\s*\[(.*?)\]", text, flags=re.M | re.S)
    if match:
        return [n.strip().strip("'\"") for n in match.group(1).split(",") if n.strip()]
    match = re.search(r"^names:\s*\n((?:[ \t]+.*\n?)+)", text, flags=re.M)
    if not match:
        return None
    names = []
    for line in match.group(1).splitlines():
        item = re.match(r"\s*(?:-\s*|\d+\s*:\s*)(.*)$", line)
        if item:
            names.append(item.group(1).strip().strip("'\""))
    return names or None


def find_class_names(root: Path) -> list[str] | None:
    """Class names from ``classes.txt`` (root or labels/) or ``data.yaml``/``dataset.yaml``; None if absent."""
    for candidate in (root / "classes.txt", root / "labels" / "classes.txt", root / "obj.names"):
        if candidate.is_file():
            names = [line.strip() for line in candidate.read_text(encoding="utf-8", errors="replace").splitlines()]
            names = [n for n in names if n]
            if names:
                return names
    for candidate in (root / "data.yaml", root / "dataset.yaml"):
        if candidate.is_file():
            names = _names_from_yaml(candidate.read_text(encoding="utf-8", errors="replace"))
            if names:
                return names
    return None


def iter_load_yolo(cfg: dict):
    """Generator: progress events, returns a localization :class:`DatasetBundle` from a YOLO folder."""
    from cnnstudio.ml.datasets.bundle import DatasetBundle

    root = existing_folder(cfg["path"], "YOLO dataset (images/ and labels/ folders)")
    yield LoadProgress(0, 0, f"Scanning {root}")
    images_dirs = [p for p in [root / "images", *root.glob("*/images")] if p.is_dir()]
    if not images_dirs:
        raise UserError(
            f"{root} is not in YOLO layout: it needs an images/ folder and a labels/ folder of "
            f".txt files with 'class cx cy w h' lines."
        )
    files = [f for d in images_dirs for f in list_images(d)]
    if not files:
        raise UserError(f"The images/ folder of {root} holds no images (.png, .jpg, .bmp or .webp).")
    names = find_class_names(root)
    skipped: list[tuple[str, str]] = []
    chosen: list[tuple[Path, int, tuple[float, float, float, float], list]] = []
    for path in files:
        label_file = label_path_for(path)
        if not label_file.is_file():
            skipped.append((str(path), f"no label file {label_file.name}"))
            continue
        try:
            objects = parse_label_text(label_file.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError) as exc:
            skipped.append((str(path), str(exc)))
            continue
        if not objects:
            skipped.append((str(path), "its label file lists no objects"))
            continue
        cls, x, y, w, h = max(objects, key=lambda o: o[3] * o[4])
        bad = None if names is None else next((o[0] for o in objects if o[0] >= len(names)), None)
        if bad is not None:
            skipped.append((str(path), f"class {bad} is not in the {len(names)} class names"))
            continue
        chosen.append((path, cls, (x, y, w, h), objects))
    if not chosen:
        raise UserError(
            f"No image in {root} has a usable label; expected labels/<name>.txt beside images/<name>.jpg "
            f"with 'class cx cy w h' lines ({len(skipped)} images skipped)."
        )
    subset = seeded_subset(len(chosen), cfg.get("max_samples", 0), cfg["seed"])
    if subset is not None:
        chosen = [chosen[i] for i in subset]
    num_classes = len(names) if names is not None else max(o[0] for *_, objs in chosen for o in objs) + 1
    classes = names if names is not None else [f"class {i}" for i in range(num_classes)]
    images, kept = yield from read_images(
        [p for p, *_ in chosen], cfg["image_size"], lambda i: i, skipped, root.name
    )
    if not images:
        raise UserError(f"None of the labelled images in {root} could be read; all are corrupt or unsupported.")
    x_np, _ = stack_images(images, cfg.get("channels", "auto"))
    y_np = np.array([chosen[i][1] for i in kept], dtype=np.int64)
    b_np = np.array([chosen[i][2] for i in kept], dtype=np.float32)
    o_np = pad_objects([chosen[i][3] for i in kept])
    train, val = stratified_split(y_np, cfg["val_fraction"], cfg["seed"])
    return DatasetBundle.from_split(x_np, y_np, train, val, targets={"boxes": b_np, "objects": o_np},
                                    classes=classes, task="localization", skipped=skipped, name=root.name)
