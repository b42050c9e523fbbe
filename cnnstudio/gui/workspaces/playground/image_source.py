"""Where the playground's pictures come from: files, the clipboard and the bundled sample photos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage, QImageReader

from cnnstudio.core.errors import FormatError, UserError
from cnnstudio.core.formats import read_json
from cnnstudio.core.paths import resource

MAX_SIDE = 4096  # larger pictures are scaled down so that filtering stays interactive
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


@dataclass(frozen=True)
class Sample:
    path: Path
    title: str
    credit: str


def samples() -> list[Sample]:
    """The bundled photos listed in resources/images/samples.json (missing files are skipped)."""
    folder = resource("images")
    try:
        data = read_json(folder / "samples.json", "sample list")
        entries = data["samples"]
    except (FormatError, KeyError, TypeError):
        entries = [{"file": p.name, "title": p.stem} for p in sorted(folder.glob("*")) if p.suffix in IMAGE_SUFFIXES]
    out = []
    for entry in entries:
        path = folder / str(entry.get("file", ""))
        if path.is_file():
            out.append(Sample(path, str(entry.get("title", path.stem)), str(entry.get("credit", ""))))
    return out


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage as uint8 numpy: (H, W) for grayscale pictures, else (H, W, 3) RGB."""
    if image.isNull():
        raise UserError("The picture is empty.")
    if image.isGrayscale():
        gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
        arr = np.frombuffer(gray.constBits(), np.uint8).reshape(gray.height(), gray.bytesPerLine())
        return arr[:, : gray.width()].copy()
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    return arr[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


def fit_size(image: QImage) -> tuple[QImage, bool]:
    if max(image.width(), image.height()) <= MAX_SIDE:
        return image, False
    from PySide6.QtCore import Qt

    scaled = image.scaled(MAX_SIDE, MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    return scaled, True


def load_image(path: Path) -> tuple[np.ndarray, str]:
    """Read a picture file; returns (pixels, note). One clear :class:`UserError` for every problem."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"The file {path} does not exist.")
    if path.is_dir():
        raise UserError(f"{path.name} is a folder, not a picture.")
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise UserError(f"{path.name} cannot be read as a picture ({reader.errorString().rstrip('.')}). "
                        "Use a PNG, JPEG, BMP, GIF, TIFF or WebP file.")
    image, scaled = fit_size(image)
    note = f" (scaled down to {image.width()}x{image.height()})" if scaled else ""
    return qimage_to_array(image), note


__all__ = ["IMAGE_SUFFIXES", "MAX_SIDE", "Sample", "fit_size", "load_image", "qimage_to_array", "samples"]
