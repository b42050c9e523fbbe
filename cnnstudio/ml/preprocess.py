"""From a natural image (file, camera frame) to the network's input, as the model's metadata says.

One implementation for predict, Live and Inspect, so a model sees the same input everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta, Preprocess

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3). A missing or corrupt file is a UserError."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"The image {p} does not exist.")
    if p.is_dir():
        raise UserError(f"{p} is a folder, not an image file.")
    import cv2

    data = np.fromfile(str(p), dtype=np.uint8)  # works with non-ASCII paths on Windows too
    with quiet_opencv():
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        try:  # formats OpenCV lacks (some GIFs): Pillow
            from PIL import Image

            with Image.open(p) as pil:
                return np.asarray(pil.convert("RGB"))
        except Exception:
            raise UserError(f"{p.name} is not a readable image (corrupt or an unsupported format).") from None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@contextmanager
def quiet_opencv(silent: bool = True) -> Iterator[None]:
    """Silence OpenCV's own log lines (``silent``: its errors too, else only warnings) while probing
    cameras and decoding files: we report problems in our own words."""
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:  # builds without the logging module
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT if silent else logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def to_model_input(image: np.ndarray, meta: ModelMeta) -> np.ndarray:
    """uint8 (H, W) or (H, W, 3) RGB -> float32 (1, C, H, W) ready for the network."""
    import cv2

    c, h, w = meta.input_shape
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if c == 1 and img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    elif c == 3 and img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if meta.preprocess.crop_to_content and img.ndim == 2:
        img = crop_to_content(img, dark_ink=meta.preprocess.invert)
    if img.shape[0] != h or img.shape[1] != w:
        shrinking = img.shape[0] > h or img.shape[1] > w
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    x = img.astype(np.float32)
    if x.ndim == 2:
        x = x[None]
    else:
        x = x.transpose(2, 0, 1)
    x = x * np.float32(meta.preprocess.scale)
    if meta.preprocess.invert:
        x = 1.0 - x
    x = normalize(x[None], meta.preprocess)
    return np.ascontiguousarray(x, dtype=np.float32)


def crop_to_content(gray: np.ndarray, dark_ink: bool = True, margin: float = 0.06) -> np.ndarray:
    """Crop a gray image to the square around its ink (MNIST-style size normalisation).

    The ink is separated from the paper with Otsu's threshold; the crop is the ink's bounding box made
    square about its centre plus ``margin`` on each side, padded with the paper's colour. An image
    without clear ink (a blank page) is returned unchanged.
    """
    import cv2

    img = np.ascontiguousarray(gray)
    ink = 255 - img if dark_ink else img
    if int(ink.max()) - int(ink.min()) < 40:
        return img
    _, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    x, y, w, h = cv2.boundingRect(mask)  # of the non-zero pixels; no point list needed
    if w == 0 or h == 0:
        return img
    side = int(round(max(w, h) * (1 + 2 * margin))) + 1
    cx, cy = x + w / 2.0, y + h / 2.0
    left, top = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    paper = int(round(cv2.mean(img, mask=cv2.bitwise_not(mask))[0]))  # the mean colour around the ink
    pad = side
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=paper)
    return padded[top + pad: top + pad + side, left + pad: left + pad + side]


def normalize(x, pre: Preprocess):
    """``(x - mean) / std`` per channel for (N, C, H, W) numpy arrays or torch tensors in [0, 1]."""
    channels = x.shape[1]
    mean = _per_channel(pre.mean, channels)
    std = _per_channel(pre.std, channels)
    if isinstance(x, np.ndarray):
        m = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        s = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
        return (x - m) / s
    import torch

    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def _per_channel(values, channels: int) -> list[float]:
    values = list(values) or [0.0]
    if len(values) == channels:
        return [float(v) for v in values]
    if len(values) == 1:
        return [float(values[0])] * channels
    raise UserError(f"The preprocessing has {len(values)} mean/std values for a {channels}-channel input.")
