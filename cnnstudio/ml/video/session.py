"""A live session: the capture thread feeds an inference thread; the view takes the newest result.

No Qt here: the GUI polls :meth:`LiveSession.latest` from a timer, so a slow view simply skips
results (it never queues them) and a frame is shown at most one frame late.
"""

from __future__ import annotations

import threading

from cnnstudio.core.errors import UserError
from cnnstudio.ml.video.capture import CaptureStatus, CaptureThread
from cnnstudio.ml.video.pipeline import LivePipeline, LiveResult
from cnnstudio.ml.video.recorder import VideoRecorder
from cnnstudio.ml.video.sources import FrameSource


class LiveSession:
    """Capture + inference threads around a :class:`LivePipeline`, with an optional recording."""

    def __init__(self, pipeline: LivePipeline, retry_interval: float = 2.0):
        self.pipeline = pipeline
        self.recorder = VideoRecorder()
        self.retry_interval = retry_interval
        self.error = ""  # the last recording error, for the view
        self._capture: CaptureThread | None = None
        self._lock = threading.Lock()
        self._result: LiveResult | None = None
        self._serial = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retired: list[CaptureThread] = []

    # --- control (any thread) --------------------------------------------------------------------
    def start(self, source: FrameSource) -> None:
        """Begin (or switch to) ``source``; the inference thread starts with the first call."""
        self.set_source(source)
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="cnnstudio-live-inference", daemon=True)
            self._thread.start()

    def set_source(self, source: FrameSource) -> None:
        """Switch sources without waiting for the old one (joined in :meth:`stop`)."""
        with self._lock:
            old, self._capture = self._capture, CaptureThread(source, self.retry_interval).start()
            if old is not None:
                old.request_stop()
                self._retired = [c for c in self._retired if not c.finished] + [old]

    @property
    def status(self) -> CaptureStatus | None:
        capture = self._capture
        return capture.status if capture is not None else None

    @property
    def dropped(self) -> int:
        capture = self._capture
        return capture.dropped if capture is not None else 0

    def latest(self, after: int = 0) -> tuple[int, LiveResult | None]:
        """(serial, result) of the newest processed frame when its serial is above ``after``."""
        with self._lock:
            if self._serial > after:
                return self._serial, self._result
            return after, None

    def stop(self) -> None:
        """Stop both threads, the camera and any recording (safe to call twice)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10.0)
        with self._lock:
            captures = [c for c in (self._capture, *self._retired) if c is not None]
            self._capture, self._retired = None, []
        for capture in captures:
            capture.stop()
        self.recorder.stop()

    # --- the inference thread --------------------------------------------------------------------
    def _run(self) -> None:
        last = -1
        capture = None
        while not self._stop.is_set():
            with self._lock:
                if capture is not self._capture:
                    capture, last = self._capture, -1
            if capture is None:
                self._stop.wait(0.05)
                continue
            frame = capture.latest(after=last, timeout=0.1)
            if frame is None:
                if capture.finished:
                    self._stop.wait(0.05)
                continue
            last = frame.index
            result = self.pipeline.process(frame.image, frame.index, frame.capture_ms, frame.timestamp)
            if self.recorder.active:
                try:
                    self.recorder.write(result.image)
                except UserError as exc:
                    self.error = str(exc)
            with self._lock:
                self._result = result
                self._serial += 1
