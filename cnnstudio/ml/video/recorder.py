"""Saving what the Live view shows: a snapshot image, or the annotated video (cv2.VideoWriter)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.fileio import atomic_write_bytes

SNAPSHOT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: container suffix -> FourCC; MJPG in .avi is in every OpenCV build
VIDEO_CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "MJPG"}


def save_snapshot(image: np.ndarray, path: str | Path) -> Path:
    """Write a BGR frame to a PNG/JPEG/BMP file (atomically)."""
    import cv2

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SNAPSHOT_SUFFIXES:
        raise UserError(f"Snapshots are saved as {', '.join(SNAPSHOT_SUFFIXES)}; {path.name} is none of these.")
    ok, data = cv2.imencode(suffix, image)
    if not ok:
        raise UserError(f"The snapshot could not be encoded as {suffix}.")
    try:
        atomic_write_bytes(path, data.tobytes())
    except OSError as exc:
        raise UserError(f"The snapshot could not be saved to {path}: {exc.strerror or exc}.") from None
    return path


class VideoRecorder:
    """Annotated frames to a video file. Thread-safe: the inference thread writes, the GUI starts/stops.

    The size is fixed by the first frame; later frames of another size (a new source) are scaled to it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writer = None
        self._size: tuple[int, int] | None = None
        self.path: Path | None = None
        self.frames = 0
        self._fps = 30.0

    @property
    def active(self) -> bool:
        return self.path is not None

    def start(self, path: str | Path, fps: float = 30.0) -> None:
        """Begin recording to ``path`` (.avi, .mp4 or .mkv); the file opens with the first frame."""
        path = Path(path)
        if path.suffix.lower() not in VIDEO_CODECS:
            raise UserError(f"Videos are recorded as {', '.join(VIDEO_CODECS)}; {path.name} is none of these.")
        if not path.parent.is_dir():
            raise UserError(f"The folder {path.parent} does not exist.")
        with self._lock:
            self._close_writer()
            self.path = path
            self.frames = 0
            self._fps = float(fps) if fps and fps > 0 else 30.0

    def write(self, image: np.ndarray) -> None:
        import cv2

        with self._lock:
            if self.path is None:
                return
            if self._writer is None:
                height, width = image.shape[:2]
                fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[self.path.suffix.lower()])
                writer = cv2.VideoWriter(str(self.path), fourcc, self._fps, (width, height))
                if not writer.isOpened():
                    path, self.path = self.path, None
                    raise UserError(f"Cannot record to {path}: OpenCV could not open a video writer there.")
                self._writer, self._size = writer, (width, height)
            if (image.shape[1], image.shape[0]) != self._size:
                image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
            self._writer.write(image)
            self.frames += 1

    def stop(self) -> tuple[Path | None, int]:
        """Finish the file; returns (path, frames written)."""
        with self._lock:
            path, frames = self.path, self.frames
            self._close_writer()
            self.path = None
            return path, frames

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self._size = None
