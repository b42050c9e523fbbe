"""A capture thread that keeps only the newest frame and retries a camera that fails.

The consumer (the inference loop) always takes the newest frame; frames it had no time for are
dropped and counted, so the display never falls behind the camera. A camera that is missing, busy or
unplugged is retried every ``retry_interval`` seconds and the reason is in :attr:`status`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from cnnstudio.ml.video.sources import FrameSource

STARTING, RUNNING, RETRYING, ENDED, FAILED, STOPPED = "starting", "running", "retrying", "ended", "failed", "stopped"


@dataclass(frozen=True)
class Frame:
    index: int  # counts the frames this thread delivered, from 0
    image: np.ndarray  # BGR uint8 (H, W, 3); the consumer owns it
    capture_ms: float  # how long reading (grabbing and decoding) took
    timestamp: float  # time.perf_counter() when it arrived


@dataclass(frozen=True)
class CaptureStatus:
    state: str  # starting, running, retrying, ended, failed, stopped
    message: str  # a sentence for the view ("" while running)
    serial: int = 0  # grows with every change, so a view can tell a new message from an old one

    @property
    def ok(self) -> bool:
        return self.state == RUNNING


class CaptureThread:
    """Reads ``source`` on its own thread; :meth:`latest` hands out the newest frame.

    ``pace``: deliver files and slideshows at their frame rate (cameras pace themselves).
    """

    def __init__(self, source: FrameSource, retry_interval: float = 2.0, pace: bool = True):
        self.source = source
        self.retry_interval = float(retry_interval)
        self.pace = pace
        self.dropped = 0
        self.delivered = 0
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._taken = True
        self._status = CaptureStatus(STARTING, f"Opening {source.name}…")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"cnnstudio-capture-{source.name}", daemon=True)

    # --- consumer side ---------------------------------------------------------------------------
    @property
    def status(self) -> CaptureStatus:
        return self._status

    def start(self) -> CaptureThread:
        self._thread.start()
        return self

    def latest(self, after: int = -1, timeout: float | None = None) -> Frame | None:
        """The newest frame with an index above ``after``; waits up to ``timeout`` s (None: no wait)."""
        with self._cond:
            if timeout:
                self._cond.wait_for(self._has_newer(after), timeout)
            frame = self._frame
            if frame is None or frame.index <= after:
                return None
            self._taken = True
            return frame

    def _has_newer(self, after: int):
        return lambda: (self._frame is not None and self._frame.index > after) or self._done()

    def _done(self) -> bool:
        return self._stop.is_set() or self._status.state in (ENDED, FAILED)

    @property
    def finished(self) -> bool:
        """True once the thread stopped for good (end of a file, a source that cannot open, stop())."""
        return not self._thread.is_alive() and self._thread.ident is not None

    def request_stop(self) -> None:
        """Ask the thread to end without waiting for it (a camera read may take a moment)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and wait for the thread; closes the source."""
        self.request_stop()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        if not self._thread.is_alive():  # else the thread is inside read(); it closes the source when done
            self.source.close()

    # --- the thread ------------------------------------------------------------------------------
    def _set_status(self, state: str, message: str) -> None:
        with self._cond:
            if (state, message) != (self._status.state, self._status.message):
                self._status = CaptureStatus(state, message, self._status.serial + 1)
            self._cond.notify_all()

    def _publish(self, image: np.ndarray, capture_ms: float) -> None:
        with self._cond:
            if not self._taken:
                self.dropped += 1
            self._frame = Frame(self.delivered, image, capture_ms, time.perf_counter())
            self._taken = False
            self.delivered += 1
            self._cond.notify_all()

    def _run(self) -> None:
        source = self.source
        attempts = 0
        next_due = 0.0
        try:
            while not self._stop.is_set():
                if not source.is_open:
                    try:
                        source.open()
                    except Exception as exc:  # a UserError with its sentence, or a driver error
                        text = str(exc) or type(exc).__name__
                        if not source.live:
                            self._set_status(FAILED, text)
                            return
                        attempts += 1
                        self._set_status(
                            RETRYING, f"{text} Retrying every {self.retry_interval:g} s (attempt {attempts})."
                        )
                        self._stop.wait(self.retry_interval)
                        continue
                    attempts = 0
                    self._set_status(RUNNING, "")
                    next_due = time.perf_counter()
                t0 = time.perf_counter()
                try:
                    image = source.read()
                except Exception:
                    image = None
                capture_ms = (time.perf_counter() - t0) * 1000.0
                if image is None:
                    if source.live:
                        source.close()
                        self._set_status(
                            RETRYING,
                            f"{source.name.capitalize()} stopped delivering frames (unplugged, or taken by "
                            f"another program); reconnecting every {self.retry_interval:g} s.",
                        )
                        self._stop.wait(self.retry_interval)
                        continue
                    self._set_status(ENDED, f"{source.name} ended after {self.delivered} frames.")
                    return
                self._publish(image, capture_ms)
                if self.pace and not source.live and source.fps > 0:
                    next_due += 1.0 / source.fps
                    delay = next_due - time.perf_counter()
                    if delay > 0:
                        self._stop.wait(delay)
                    else:
                        next_due = time.perf_counter()
        finally:
            if self._stop.is_set():
                self._set_status(STOPPED, "Stopped.")
            source.close()
