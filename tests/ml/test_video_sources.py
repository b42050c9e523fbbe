"""Frame sources: a video file the test writes stands in for a camera; folders play as slideshows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.ml.video._testing import write_test_video
from cnnstudio.ml.video.sources import (
    CameraSource,
    ImageFolderSource,
    SourceUnavailable,
    VideoFileSource,
    list_cameras,
    open_source,
)


class FakeCapture:
    """A cv2.VideoCapture stand-in: ``opened`` or not; ``frames`` good reads, then failures."""

    def __init__(self, opened: bool = True, frames: int = 10**9, shape=(48, 64, 3)):
        self.opened = opened
        self.left = frames
        self.shape = shape
        self.released = False

    def isOpened(self):  # noqa: N802 - cv2 API
        return self.opened

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full(self.shape, 100, np.uint8)

    def set(self, *_args):
        return True

    def get(self, *_args):
        return 30.0

    def release(self):
        self.released = True


def test_video_file_source_reads_every_frame_then_ends(tmp_path):
    path = write_test_video(tmp_path / "clip.avi", frames=12, width=160, height=120)
    source = VideoFileSource(path)
    with source:
        assert source.fps == pytest.approx(30.0)
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
    assert len(frames) == 12
    assert frames[0].shape == (120, 160, 3) and frames[0].dtype == np.uint8
    assert not source.is_open


def test_looping_video_starts_over(tmp_path):
    path = write_test_video(tmp_path / "clip.avi", frames=4, width=64, height=48)
    with VideoFileSource(path, loop=True) as source:
        assert all(source.read() is not None for _ in range(10))


def test_image_folder_is_a_slideshow_that_skips_broken_images(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((20, 30, 3), 10, np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), np.full((20, 30, 3), 200, np.uint8))
    (tmp_path / "c.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    source = ImageFolderSource(tmp_path, frames_per_image=3)
    source.open()
    values = []
    while (frame := source.read()) is not None:
        values.append(int(frame[0, 0, 0]))
    assert values == [10, 10, 10, 200, 200, 200]
    assert [p.name for p, _ in source.skipped] == ["c.png"]
    looping = ImageFolderSource(tmp_path, frames_per_image=1, loop=True)
    looping.open()
    assert [int(looping.read()[0, 0, 0]) for _ in range(5)] == [10, 200, 10, 200, 10]


def test_each_read_returns_a_frame_the_caller_owns(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((8, 8, 3), 50, np.uint8))
    source = ImageFolderSource(tmp_path, frames_per_image=5)
    source.open()
    first = source.read()
    first[:] = 0  # an overlay drawn in place must not reach the next frame
    assert int(source.read()[0, 0, 0]) == 50


def test_open_source_picks_the_kind_and_explains_bad_input(tmp_path):
    video = write_test_video(tmp_path / "clip.avi", frames=2, width=32, height=32)
    assert isinstance(open_source("0"), CameraSource)
    assert isinstance(open_source(str(video)), VideoFileSource)
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    with pytest.raises(UserError, match="camera index"):
        open_source(str(tmp_path / "missing.avi"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no images"):
        open_source(str(empty)).open()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="not a readable video"):
        open_source(str(broken)).open()


def test_cameras_are_listed_and_a_missing_one_is_explained():
    def factory(index):
        return FakeCapture(opened=index in (0, 2))

    assert list_cameras(4, capture_factory=factory) == [0, 2]
    with pytest.raises(SourceUnavailable, match="Camera 3 is not available"):
        CameraSource(3, factory).open()
    camera = CameraSource(2, factory)
    camera.open()
    assert camera.read().shape == (48, 64, 3)
    camera.close()


def test_open_source_with_a_superscript_digit_is_a_sentence():
    with pytest.raises(UserError, match="does not exist"):
        open_source("²")


def test_an_image_removed_during_the_slideshow_is_skipped(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), 100, np.uint8))
    source = ImageFolderSource(tmp_path, frames_per_image=1)
    source.open()
    assert source.read() is not None
    (tmp_path / "b.png").unlink()  # gone after the folder was listed
    assert source.read() is not None  # c.png
    assert [p.name for p, _ in source.skipped] == ["b.png"]
    assert source.read() is None
