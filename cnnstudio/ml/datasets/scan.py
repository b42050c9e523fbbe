"""Reading image files for folder datasets: unreadable or corrupt files are skipped and listed, never fatal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursively), in a stable sorted order."""
    return sorted((p for p in folder.rglob("*") if is_image_file(p)), key=lambda p: str(p).lower())


def read_image(path: Path, size: int) -> tuple[np.ndarray | None, str]:
    """``(image, "")`` with image uint8 (size, size, 3) RGB or (size, size) gray; or ``(None, reason)``.

    Gray stays gray (one channel) so a folder of gray images becomes a 1-channel dataset.
    """
    import cv2

    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths on Windows too
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if data.size == 0:
        return None, "empty file"
    from cnnstudio.ml.preprocess import quiet_decoding

    try:
        with quiet_decoding():  # OpenCV's and the codecs' own lines; the reason is reported in our words
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        if image is None or image.size == 0:
            return None, "not a readable image (corrupt or unsupported format)"
        image = _to_uint8_gray_or_rgb(image)
        if image is None:
            return None, "unsupported pixel format"
        if image.shape[0] != size or image.shape[1] != size:
            shrinking = image.shape[0] > size or image.shape[1] > size
            interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            image = cv2.resize(image, (size, size), interpolation=interpolation)
    except cv2.error as exc:
        return None, f"not a usable image ({str(exc).strip().splitlines()[-1][:120]})"
    return np.ascontiguousarray(image), ""


def _to_uint8_gray_or_rgb(image: np.ndarray) -> np.ndarray | None:
    """OpenCV's decoded array (any depth, 1-4 channels, BGR order) -> uint8 gray (H, W) or RGB (H, W, 3)."""
    import cv2

    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        return None
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels in (1, 2):  # gray, or gray + alpha
        return np.ascontiguousarray(image[:, :, 0])
    if channels == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    elif channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    else:
        return None
    return image[:, :, 0].copy() if _looks_gray(image) else image


def _looks_gray(rgb: np.ndarray) -> bool:
    """True for a 3-channel image whose channels are equal (a gray JPEG saved as colour)."""
    step = max(1, rgb.shape[0] // 64)
    sample = rgb[::step, ::step].astype(np.int16)
    return bool(np.abs(sample[..., 0] - sample[..., 1]).max() <= 2 and np.abs(sample[..., 1] - sample[..., 2]).max() <= 2)


def stack_images(images: list[np.ndarray], channels: str) -> tuple[np.ndarray, int]:
    """Stack uint8 images into float32 (N, C, H, W) in [0, 1].

    ``channels``: "gray", "rgb", or "auto" (gray when every image is gray, else RGB).
    """
    if channels == "auto":
        c = 1 if all(img.ndim == 2 for img in images) else 3
    else:
        c = 1 if channels == "gray" else 3
    n = len(images)
    if n == 0:
        return np.zeros((0, c, 1, 1), dtype=np.float32), c
    h, w = images[0].shape[:2]
    out = np.empty((n, c, h, w), dtype=np.float32)
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    for i, img in enumerate(images):
        if img.ndim == 2:
            out[i] = img[None] if c == 1 else np.broadcast_to(img, (3, h, w))
        elif c == 1:
            out[i, 0] = img.astype(np.float32) @ luma
        else:
            out[i] = img.transpose(2, 0, 1)
    out *= np.float32(1.0 / 255.0)
    return out, c
