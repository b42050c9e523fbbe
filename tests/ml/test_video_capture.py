"""The capture thread: newest frame only, and a camera that fails is retried with a clear status."""

from __future__ import annotations

import time

import numpy as np

from cnnstudio.ml.video._testing import write_test_video
from cnnstudio.ml.video.capture import ENDED, RETRYING, RUNNING, CaptureThread
from cnnstudio.ml.video.sources import CameraSource, VideoFileSource


class FlakyCamera:
    """Capture objects in turn: busy (will not open), then 5 frames and unplugged, then fine forever."""

    def __init__(self):
        self.calls = 0

    def __call__(self, index):
        self.calls += 1
        if self.calls == 1:
            return _Capture(opened=False, frames=0, value=0)
        if self.calls == 2:
            return _Capture(opened=True, frames=5, value=1)
        return _Capture(opened=True, frames=10**9, value=2)


class _Capture:
    def __init__(self, opened, frames, value):
        self.opened, self.left, self.value = opened, frames, value

    def isOpened(self):  # noqa: N802 - cv2 API
        return self.opened

    def read(self):
        time.sleep(0.001)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((24, 32, 3), self.value, np.uint8)

    def set(self, *_args):
        return True

    def get(self, *_args):
        return 0.0

    def release(self):
        pass


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_a_busy_then_unplugged_camera_is_retried_and_recovers():
    factory = FlakyCamera()
    capture = CaptureThread(CameraSource(0, factory), retry_interval=0.02).start()
    messages = []
    values = []
    last = -1
    try:
        def step():
            nonlocal last
            status = capture.status
            if status.state == RETRYING and status.message not in messages:
                messages.append(status.message)
            frame = capture.latest(after=last, timeout=0.01)
            if frame is not None:
                last = frame.index
                values.append(int(frame.image[0, 0, 0]))
            return 2 in values

        _wait(step)
    finally:
        capture.stop()
    assert factory.calls >= 3
    assert any("Camera 0 is not available" in m and "Retrying" in m for m in messages)
    assert any("stopped delivering frames" in m for m in messages)
    assert 1 in values and values[-1] == 2  # frames before the failure, then after the reconnect
    assert capture.finished


def test_only_the_newest_frame_is_handed_out():
    class FastCamera(_Capture):
        def __init__(self):
            super().__init__(True, 10**9, 0)
            self.count = 0

        def read(self):
            self.count += 1
            time.sleep(0.0005)
            return True, np.full((8, 8, 3), self.count % 256, np.uint8)

    capture = CaptureThread(CameraSource(0, lambda i: FastCamera())).start()
    try:
        seen = []
        last = -1
        while len(seen) < 5:
            frame = capture.latest(after=last, timeout=1.0)
            if frame is None:
                continue
            seen.append(frame.index)
            last = frame.index
            time.sleep(0.02)  # a slow consumer
        assert capture.status.state == RUNNING
    finally:
        capture.stop()
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert all(g >= 1 for g in gaps) and max(gaps) > 1  # stale frames were skipped, never repeated
    assert capture.dropped > 0


def test_a_video_file_ends_with_a_status(tmp_path):
    path = write_test_video(tmp_path / "clip.avi", frames=6, width=32, height=32)
    capture = CaptureThread(VideoFileSource(path), pace=False).start()
    try:
        _wait(lambda: capture.finished)
    finally:
        capture.stop()
    assert capture.status.state == ENDED
    assert capture.delivered == 6
    assert "ended after 6 frames" in capture.status.message


def test_stop_never_closes_a_source_while_a_slow_read_is_running():
    """Releasing a cv2.VideoCapture while another thread reads from it can crash OpenCV."""
    import threading

    reading, finish = threading.Event(), threading.Event()
    events = []

    class SlowCapture(_Capture):
        def read(self):
            reading.set()
            finish.wait(5)
            events.append("read done")
            return True, np.zeros((4, 4, 3), np.uint8)

        def release(self):
            events.append("released")

    capture = CaptureThread(CameraSource(0, lambda i: SlowCapture(True, 1, 0), size=None)).start()
    assert reading.wait(5)
    capture.stop(timeout=0.05)  # the read is still blocked
    assert events == []
    finish.set()
    capture._thread.join(5)
    assert events == ["read done", "released"]
