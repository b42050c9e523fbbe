"""Where live frames come from: a camera by index, a video file, or a folder of images as a slideshow.

Every source is a :class:`FrameSource`: ``open()`` (a clear :class:`UserError` when it cannot),
``read()`` -> a BGR uint8 frame (H, W, 3) or None, ``close()``. Frames stay BGR, OpenCV's order, from
capture to drawing and recording; only the display and the model input convert. Each ``read()``
returns an array the caller owns (overlays draw on it in place).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.preprocess import quiet_opencv

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".gif")


class SourceUnavailable(UserError):
    """A camera that is missing, busy or unplugged (worth retrying)."""


class FrameSource(ABC):
    """One stream of BGR frames."""

    #: True for cameras: a failure is retried and stale frames are dropped.
    live: bool = False

    def __init__(self) -> None:
        self.is_open = False

    @property
    @abstractmethod
    def name(self) -> str:
        """How the user would call it: "camera 0", "clip.avi", "folder digits"."""

    @property
    def fps(self) -> float:
        """The nominal frame rate (files and slideshows are played at it); 0 when unknown."""
        return 0.0

    @abstractmethod
    def open(self) -> None:
        """Open the source; raise a UserError (SourceUnavailable for cameras) when it cannot."""

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end of a file or when a camera fails."""

    def rewind(self) -> bool:
        """Go back to the first frame (files); False when the source cannot."""
        return False

    def close(self) -> None:
        self.is_open = False

    def __enter__(self) -> FrameSource:
        if not self.is_open:
            self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _default_camera_factory(index: int):
    import cv2

    return cv2.VideoCapture(index)


class CameraSource(FrameSource):
    """A webcam by index. ``capture_factory(index)`` returns a cv2.VideoCapture-like object."""

    live = True

    def __init__(self, index: int, capture_factory: Callable[[int], Any] | None = None,
                 size: tuple[int, int] | None = (640, 480)):
        super().__init__()
        self.index = int(index)
        self._factory = capture_factory or _default_camera_factory
        self._size = size
        self._cap: Any = None
        self._fps = 0.0

    @property
    def name(self) -> str:
        return f"camera {self.index}"

    @property
    def fps(self) -> float:
        return self._fps

    def open(self) -> None:
        self.close()
        try:
            with quiet_opencv(silent=False):
                cap = self._factory(self.index)
                opened = bool(cap is not None and cap.isOpened())
        except Exception:
            cap, opened = None, False
        if not opened:
            if cap is not None:
                cap.release()
            raise SourceUnavailable(
                f"Camera {self.index} is not available: it is missing, unplugged or used by another program."
            )
        if self._size is not None:
            import cv2

            try:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
                self._fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            except Exception:  # fake or exotic captures without properties
                self._fps = 0.0
        self._cap = cap
        self.is_open = True

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        try:
            ok, frame = self._cap.read()
        except Exception:
            return None
        if not ok or frame is None or frame.size == 0:
            return None
        return _as_bgr(frame)

    def close(self) -> None:
        if self._cap is not None:
            try:
                self._cap.release()
            except Exception:  # releasing a vanished device must not raise
                pass
            self._cap = None
        super().close()


class VideoFileSource(FrameSource):
    """A video file; ``loop`` starts it over at the end (the GUI plays it like a camera)."""

    def __init__(self, path: str | Path, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self._cap: Any = None
        self._fps = 0.0
        self._first: np.ndarray | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fps(self) -> float:
        return self._fps

    def open(self) -> None:
        import cv2

        self.close()
        if not self.path.exists():
            raise UserError(f"The video file {self.path} does not exist.")
        if self.path.is_dir():
            raise UserError(f"{self.path} is a folder; play it as an image folder, not a video.")
        with quiet_opencv(silent=False):
            cap = cv2.VideoCapture(str(self.path))
            ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            cap.release()
            raise UserError(f"{self.path.name} is not a readable video (corrupt, empty or an unsupported codec).")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self._cap = cap
        self._first = _as_bgr(frame)
        self.is_open = True

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok and self.loop and self.rewind():
            ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        return _as_bgr(frame)

    def rewind(self) -> bool:
        import cv2

        if self._cap is None:
            return False
        if self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
            return True
        self.open()
        return self.is_open

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._first = None
        super().close()


class ImageFolderSource(FrameSource):
    """The images of a folder (or one image file), in name order, as a slideshow.

    Each image is delivered ``frames_per_image`` times (the GUI uses ``fps`` x seconds per image, so a
    slideshow behaves like a 30 fps camera; the CLI uses 1: one result per image). Unreadable images
    are skipped and listed in ``skipped``.
    """

    def __init__(self, path: str | Path, frames_per_image: int = 1, fps: float = 30.0, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.frames_per_image = max(1, int(frames_per_image))
        self.loop = loop
        self._fps = float(fps)
        self.files: list[Path] = []
        self.skipped: list[tuple[Path, str]] = []
        self._position = 0
        self._current: np.ndarray | None = None
        self._current_file = -1

    @property
    def name(self) -> str:
        return self.path.name if self.path.is_file() else f"folder {self.path.name}"

    @property
    def fps(self) -> float:
        return self._fps

    def open(self) -> None:
        if not self.path.exists():
            raise UserError(f"The image folder {self.path} does not exist.")
        if self.path.is_file():
            files = [self.path]
        else:
            files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise UserError(f"The folder {self.path} holds no images ({', '.join(IMAGE_SUFFIXES[:4])}, …).")
        self.files = files
        self.skipped = []
        self._position = 0
        self._current_file = -1
        self._current = None
        self.is_open = True
        if self._load_next(0) is None:
            self.is_open = False
            if self.path.is_file():
                raise UserError(f"{self.path.name} is not a readable image (corrupt or an unsupported format).")
            raise UserError(f"None of the images in {self.path} could be read (corrupt or unsupported).")

    def _load_next(self, start: int) -> int | None:
        """Load the first readable image at or after ``start``; its index, or None."""
        import cv2

        for i in range(start, len(self.files)):
            try:
                data = np.fromfile(str(self.files[i]), dtype=np.uint8)
            except OSError:  # removed since the folder was listed, or not readable: skipped like a corrupt file
                data = np.zeros(0, dtype=np.uint8)
            with quiet_opencv():  # a corrupt file is listed in skipped, not logged
                image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if image is None:
                if all(p != self.files[i] for p, _ in self.skipped):
                    self.skipped.append((self.files[i], "not a readable image"))
                continue
            self._current, self._current_file = image, i
            return i
        return None

    def read(self) -> np.ndarray | None:
        if not self.is_open or self._current is None:
            return None
        if self._position and self._position % self.frames_per_image == 0:
            if self._load_next(self._current_file + 1) is None:
                if not self.loop or self._load_next(0) is None:
                    return None
        self._position += 1
        return self._current.copy()

    def rewind(self) -> bool:
        if not self.files:
            return False
        self._position = 0
        return self._load_next(0) is not None

    def close(self) -> None:
        self._current = None
        super().close()


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        import cv2

        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return np.ascontiguousarray(frame[:, :, :3])
    return frame


def list_cameras(max_index: int = 4, capture_factory: Callable[[int], Any] | None = None) -> list[int]:
    """The indices of the cameras that open now (probing stops at ``max_index``)."""
    if capture_factory is None and _linux_without_video_devices():
        return []
    found = []
    for index in range(max_index):
        source = CameraSource(index, capture_factory, size=None)
        try:
            source.open()
        except SourceUnavailable:
            continue
        finally:
            source.close()
        found.append(index)
    return found


def _linux_without_video_devices() -> bool:
    """On Linux, no /dev/video* means no camera: skip the slow probing."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    return not any(Path("/dev").glob("video*"))


def open_source(text: str | int, *, live_playback: bool = False,
                camera_factory: Callable[[int], Any] | None = None) -> FrameSource:
    """A source from what the user typed: a camera index, a video file, an image folder or image file.

    ``live_playback`` makes files loop and slideshows hold each image about 1.5 s at 30 fps (the GUI);
    without it every frame or image is delivered once (the CLI). The source is not opened yet.
    """
    value = str(text).strip()
    if value.isdecimal():  # not isdigit: int() refuses digits such as "²"
        return CameraSource(int(value), camera_factory)
    path = Path(value).expanduser()
    if not value or not path.exists():
        raise UserError(
            f"The source {value!r} does not exist: give a camera index (0, 1, …), a video file or an image folder."
        )
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolderSource(path, frames_per_image=45 if live_playback else 1, loop=live_playback)
    return VideoFileSource(path, loop=live_playback)
