"""From a natural image (file, camera frame) to the network's input, as the model's metadata says.

One implementation for predict, Live and Inspect, so a model sees the same input everywhere.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import DEFAULT_CROP_MARGIN, ModelMeta, Preprocess

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
    with quiet_decoding():
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


_STDERR_LOCK = threading.Lock()


@contextmanager
def quiet_decoding() -> Iterator[None]:
    """Decode image files without the codecs' own lines on stderr: OpenCV's log (:func:`quiet_opencv`)
    and what libjpeg/libpng print straight to the C stderr ("Corrupt JPEG data: ..."). The caller
    reports a bad file in its own words. Only around one decode: stderr is the process's, so other
    threads' lines written in those microseconds are dropped too."""
    with quiet_opencv(), _STDERR_LOCK:
        saved = null = -1
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
            saved = os.dup(2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
        except (OSError, ValueError, AttributeError):  # no usable fd 2 (a windowed app): nothing to hide
            for fd in (saved, null):
                if fd >= 0:
                    os.close(fd)
            saved = null = -1
        try:
            yield
        finally:
            if saved >= 0:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(null)


def to_model_input(image: np.ndarray, meta: ModelMeta) -> np.ndarray:
    """uint8 (H, W) or (H, W, 3) RGB -> float32 (1, C, H, W) ready for the network."""
    import cv2

    c, h, w = meta.input_shape
    pre = meta.preprocess
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if c == 1 and img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    elif c == 3 and img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    ink = image_ink(img, pre)
    if pre.crop_to_content and img.ndim == 2:
        img = crop_to_content(img, dark_ink=ink == "dark", margin=pre.crop_margin)
    if img.shape[0] != h or img.shape[1] != w:
        shrinking = img.shape[0] > h or img.shape[1] > w
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    x = img.astype(np.float32)
    if x.ndim == 2:
        x = x[None]
    else:
        x = x.transpose(2, 0, 1)
    x = x * np.float32(pre.scale)
    if flips(ink, pre):
        x = 1.0 - x
    x = normalize(x[None], pre)
    return np.ascontiguousarray(x, dtype=np.float32)


def image_ink(img: np.ndarray, pre: Preprocess) -> str:
    """The ink of a natural uint8 image as ``pre.polarity`` says: "light", "dark" or "" (unknown).

    ``"auto"`` reads it from the image (:func:`paper_is_light`; an image without a clear paper colour
    counts as a photo of dark ink on light paper); ``"keep"`` takes the training images' ink,
    ``"invert"`` its opposite (a model without a known ink: dark, version 1's rule for ``invert``).
    """
    if pre.polarity == "auto":
        gray = img if img.ndim == 2 else img.mean(axis=2)
        light = paper_is_light(gray)
        return "light" if light is False else "dark"
    if pre.polarity == "invert":
        return "dark" if pre.ink != "dark" else "light"
    return pre.ink


def flips(ink: str, pre: Preprocess) -> bool:
    """Whether an image with ``ink`` is flipped (``1 - x``) to look like the training images."""
    if pre.polarity == "invert":
        return True
    return bool(ink and pre.ink and ink != pre.ink)


def paper_is_light(gray: np.ndarray, min_contrast: float = 24.0) -> bool | None:
    """The document-scanner rule: an image's border is its paper; is the paper the light side?

    ``gray`` is a (H, W) image in 0..255. The paper colour is the median of its outer ring (1/16 of the
    side, at least one pixel, read on a grid of about 32 x 32 pixels so that large photos cost no
    more), and it is light when above the middle of the image's darkest and lightest values. ``None``
    when the image has too little contrast to tell (a blank page).
    """
    import cv2

    img = np.asarray(gray)
    if img.dtype != np.uint8:
        img = np.clip(np.asarray(img, dtype=np.float32) + 0.5, 0, 255).astype(np.uint8)
    lo, hi, _, _ = cv2.minMaxLoc(img)  # over every pixel: a thin stroke counts
    if hi - lo < min_contrast:
        return None
    step = -(-max(img.shape[:2]) // 32)  # the border is read on a grid of about 32 x 32 pixels
    small = img[::step, ::step]
    h, w = small.shape[:2]
    r = max(1, min(h, w) // 16)
    ring = np.concatenate((small[:r].ravel(), small[h - r:].ravel(), small[r:h - r, :r].ravel(),
                           small[r:h - r, w - r:].ravel()))
    middle = ring.size // 2
    paper = float(np.partition(ring, middle)[middle])  # the median colour of the border
    return bool(paper > (lo + hi) / 2)


def dataset_ink(x, agree: float = 0.9, sample: int = 2000) -> str:
    """The ink of a dataset's images (N, C, H, W) in [0, 1] by :func:`paper_is_light`: "light",
    "dark", or "" when under ``agree`` of the (at most ``sample``, evenly spaced) images with a clear
    paper colour share one polarity (photos, mixed sets)."""
    arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if arr.ndim != 4 or len(arr) == 0:
        return ""
    picks = np.unique(np.linspace(0, len(arr) - 1, min(len(arr), sample)).astype(np.int64))
    light = dark = 0
    for i in picks:
        img = arr[i, 0] if arr.shape[1] == 1 else np.tensordot(_LUMA, arr[i, :3], axes=([0], [0]))
        decided = paper_is_light(img * np.float32(255.0))
        light += decided is True
        dark += decided is False
    total = light + dark
    if total == 0:
        return ""
    if dark / total >= agree:
        return "light"  # dark paper: light ink
    if light / total >= agree:
        return "dark"
    return ""


@dataclass(frozen=True)
class ImageFacts:
    """How a dataset's stored images look: what a model trained on them needs from a natural image.

    ``ink``: "light" (light ink on a dark background: scikit-learn's digits, MNIST), "dark" (dark on
    light paper) or "" (natural photos, mixed or unknown). ``cropped_to_content``: the images were
    size-normalised, the content's bounding box filling the frame with ``content_margin`` (a fraction
    of the content's size) on each side. ``resize``: how the loader brought them to one size.
    :func:`training_preprocess` turns these facts into a model's preprocessing. Kept here, beside the
    rules that measure and read them (a DatasetBundle carries them: ``cnnstudio.ml.datasets.bundle``).
    """

    ink: str = ""
    cropped_to_content: bool = False
    content_margin: float = 0.0
    resize: str = "stretch"

    @classmethod
    def measured(cls, x, **facts) -> ImageFacts:
        """Facts with ``ink`` measured on the images ``x`` (N, C, H, W) in [0, 1] by the border rule."""
        return cls(ink=dataset_ink(x), **facts)


def training_preprocess(spec: dict, data) -> dict:
    """The "preprocess" dict of a model trained on ``data`` (a DatasetBundle) with ``spec``.

    Exactly the pipeline that trained it: ``mean``/``std`` from the spec (the trainer normalises with
    them), everything else from the data's :class:`ImageFacts`: scale 1/255 (images are uint8 files
    scaled to [0, 1]), the loaders' resize, the training images' ``ink`` with ``polarity: "auto"`` for a
    gray network trained on one polarity (the image's own border decides; else ``"keep"``), and
    ``crop_to_content`` with the data's margin only when the training images were size-normalised.
    """
    channels = int(spec["input"]["channels"])
    given = Preprocess.from_dict(spec.get("preprocess"), channels)
    facts = getattr(data, "facts", None) or ImageFacts()
    gray = channels == 1
    classifier = str(spec.get("task", "classification")) == "classification"
    ink = facts.ink if facts.ink in ("light", "dark") else ""
    crop = bool(facts.cropped_to_content and gray and classifier and ink)
    pre = Preprocess(
        mean=given.mean,
        std=given.std,
        scale=1.0 / 255.0,
        polarity="auto" if gray and ink else "keep",
        ink=ink,
        resize=facts.resize,
        crop_to_content=crop,
        crop_margin=float(facts.content_margin) if crop else given.crop_margin,
    )
    return pre.to_dict()


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def crop_to_content(gray: np.ndarray, dark_ink: bool = True, margin: float = DEFAULT_CROP_MARGIN) -> np.ndarray:
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
    side = max(1, int(round(max(w, h) * (1 + 2 * margin))))
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
