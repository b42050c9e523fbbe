"""A detection folder in COCO layout: images and an instances JSON (``images``, ``annotations`` with
``bbox`` = x, y, w, h in pixels, ``categories``).

The JSON is ``annotations/instances*.json`` or a ``*.json`` at the top; image files are looked up beside
it, in ``images/`` or at their ``file_name`` under the folder. Every object is kept (task "detection"),
an image without annotations is an image without objects; crowd regions are left out.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnstudio.core.errors import UserError
from cnnstudio.ml.datasets.events import LoadProgress
from cnnstudio.ml.datasets.folder import existing_folder, read_images
from cnnstudio.ml.datasets.objects import pad_objects
from cnnstudio.ml.datasets.scan import stack_images
from cnnstudio.ml.datasets.split import seeded_subset, stratified_split


def find_annotations(root: Path) -> Path:
    """The COCO instances JSON of ``root`` (UserError when there is none)."""
    candidates = sorted(root.glob("annotations/instances*.json")) + sorted(root.glob("annotations/*.json")) \
        + sorted(root.glob("*.json"))
    if not candidates:
        raise UserError(f"{root} is not in COCO layout: it needs annotations/instances.json (or a .json file) "
                        "with images, annotations and categories.")
    return candidates[0]


def parse_coco(doc: dict) -> tuple[list[str], list[dict], dict[int, list[tuple]]]:
    """``(class names, images, image id -> [(class, x, y, w, h) normalised])`` of a COCO document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list) or not isinstance(doc.get("categories"), list):
        raise ValueError("it has no 'images' and 'categories' lists")
    categories = sorted(doc["categories"], key=lambda c: int(c["id"]))
    index = {int(c["id"]): i for i, c in enumerate(categories)}
    names = [str(c.get("name", f"class {c['id']}")) for c in categories]
    images = {int(im["id"]): im for im in doc["images"]}
    objects: dict[int, list[tuple]] = {i: [] for i in images}
    for ann in doc.get("annotations", []) or []:
        if ann.get("iscrowd"):
            continue
        image = images.get(int(ann["image_id"]))
        if image is None or int(ann["category_id"]) not in index:
            continue
        w, h = float(image["width"]), float(image["height"])
        x, y, bw, bh = (float(v) for v in ann["bbox"])
        x0, y0 = min(max(x / w, 0.0), 1.0), min(max(y / h, 0.0), 1.0)
        x1, y1 = min(max((x + bw) / w, 0.0), 1.0), min(max((y + bh) / h, 0.0), 1.0)
        if x1 > x0 and y1 > y0:
            objects[int(image["id"])].append((index[int(ann["category_id"])], x0, y0, x1 - x0, y1 - y0))
    return names, list(images.values()), objects


def _image_file(root: Path, json_path: Path, name: str) -> Path:
    for folder in (json_path.parent, root / "images", root, json_path.parent.parent / "images"):
        if (folder / name).is_file():
            return folder / name
    return root / "images" / name


def iter_load_coco(cfg: dict):
    """Generator: progress events, returns a detection :class:`DatasetBundle` from a COCO folder."""
    from cnnstudio.ml.datasets.bundle import DatasetBundle
    from cnnstudio.ml.datasets.multishapes import main_labels

    root = existing_folder(cfg["path"], "COCO dataset (images and an instances JSON)")
    json_path = find_annotations(root)
    yield LoadProgress(0, 0, f"Reading {json_path.name}")
    try:
        names, images, objects = parse_coco(json.loads(json_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{json_path} is not a COCO instances file: {exc}.") from None
    if not images:
        raise UserError(f"{json_path} lists no images.")
    subset = seeded_subset(len(images), cfg.get("max_samples", 0), cfg["seed"])
    if subset is not None:
        images = [images[i] for i in subset]
    skipped: list[tuple[str, str]] = []
    files = [_image_file(root, json_path, str(im["file_name"])) for im in images]
    pixels, kept = yield from read_images(files, cfg["image_size"], lambda i: i, skipped, root.name)
    if not pixels:
        raise UserError(f"None of the images {json_path.name} lists could be read in {root}.")
    x_np, _ = stack_images(pixels, cfg.get("channels", "auto"))
    objects_np = pad_objects([objects[int(images[i]["id"])] for i in kept])
    y_np = main_labels(objects_np)
    train, val = stratified_split(y_np, cfg["val_fraction"], cfg["seed"])
    return DatasetBundle.from_split(x_np, y_np, train, val, targets={"objects": objects_np}, classes=names,
                                    task="detection", skipped=skipped, name=root.name)


__all__ = ["find_annotations", "iter_load_coco", "parse_coco"]
