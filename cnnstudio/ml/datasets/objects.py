"""Several objects per image: padding them into one tensor, and writing YOLO and COCO folders.

A detection dataset holds its objects as float32 (N, M, 5) rows ``class, x, y, w, h`` (normalised,
top-left corner), padded with class -1 rows to the most objects M of an image, so the whole set stays
a tensor on the training device. :func:`write_yolo_folder` and :func:`write_coco_folder` write images
and objects in the two common layouts (the built-in multishapes, for example), which
:mod:`cnnstudio.ml.datasets.yolo` and :mod:`cnnstudio.ml.datasets.coco` read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnstudio.core.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text


def pad_objects(per_image: Sequence[Sequence[tuple]], max_objects: int = 0) -> np.ndarray:
    """Lists of ``(class, x, y, w, h)`` per image as (N, M, 5) float32, padded with class -1."""
    m = max([len(objs) for objs in per_image] + [1]) if not max_objects else max_objects
    out = np.zeros((len(per_image), m, 5), dtype=np.float32)
    out[..., 0] = -1.0
    for i, objs in enumerate(per_image):
        for j, obj in enumerate(list(objs)[:m]):
            out[i, j] = obj
    return out


def unpad(objects: np.ndarray) -> list[np.ndarray]:
    """(N, M, 5) padded objects -> per image a (T, 5) array of its real objects."""
    objects = np.asarray(objects, np.float32)
    return [o[o[:, 0] >= 0] for o in objects]


def _image_bytes(image: np.ndarray) -> bytes:
    """PNG bytes of an image: float (C, H, W) in [0, 1] or uint8 (H, W[, 3]) RGB."""
    import cv2

    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
        img = img.transpose(1, 2, 0) if img.ndim == 3 else img
        img = img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img
    if img.ndim == 3:
        img = img[..., ::-1]  # RGB -> BGR for OpenCV
    ok, data = cv2.imencode(".png", np.ascontiguousarray(img))
    if not ok:
        raise ValueError("the image could not be encoded as PNG")
    return data.tobytes()


def _size(image: np.ndarray) -> tuple[int, int]:
    img = np.asarray(image)
    return (img.shape[1], img.shape[2]) if img.dtype != np.uint8 and img.ndim == 3 else (img.shape[0], img.shape[1])


def write_yolo_folder(root: str | Path, images, objects: np.ndarray, classes: Sequence[str]) -> Path:
    """``root/images/NNNNN.png``, ``root/labels/NNNNN.txt`` (``class cx cy w h`` lines) and ``classes.txt``."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    for i, (image, objs) in enumerate(zip(images, unpad(objects))):
        name = f"{i:05d}"
        atomic_write_bytes(root / "images" / f"{name}.png", _image_bytes(image))
        lines = [f"{int(c)} {x + w / 2:.6f} {y + h / 2:.6f} {w:.6f} {h:.6f}" for c, x, y, w, h in objs]
        atomic_write_text(root / "labels" / f"{name}.txt", "".join(line + "\n" for line in lines))
    atomic_write_text(root / "classes.txt", "".join(f"{c}\n" for c in classes))
    return root


def write_coco_folder(root: str | Path, images, objects: np.ndarray, classes: Sequence[str]) -> Path:
    """``root/images/NNNNN.png`` and ``root/annotations/instances.json`` (COCO boxes in pixels)."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    doc: dict = {"images": [], "annotations": [],
                 "categories": [{"id": i + 1, "name": str(c)} for i, c in enumerate(classes)]}
    for i, (image, objs) in enumerate(zip(images, unpad(objects))):
        name = f"{i:05d}.png"
        atomic_write_bytes(root / "images" / name, _image_bytes(image))
        h, w = _size(image)
        doc["images"].append({"id": i + 1, "file_name": name, "width": int(w), "height": int(h)})
        for c, x, y, bw, bh in objs:
            box = [round(float(x) * w, 3), round(float(y) * h, 3), round(float(bw) * w, 3), round(float(bh) * h, 3)]
            doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": i + 1,
                                       "category_id": int(c) + 1, "bbox": box, "area": round(box[2] * box[3], 3),
                                       "iscrowd": 0})
    atomic_write_json(root / "annotations" / "instances.json", doc)
    return root
