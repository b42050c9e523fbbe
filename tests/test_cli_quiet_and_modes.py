"""Small promises: files the tool writes get the user's umask; the codecs' own lines stay off stderr."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from cnnstudio.cli import main


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_written_files_get_the_users_umask_and_keep_an_existing_mode(tmp_path):
    from cnnstudio.core.fileio import atomic_write_json, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", {"a": 1})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644  # not mkstemp's 0600
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.txt", "private")
        assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600
        os.umask(0o022)
        (tmp_path / "a.json").chmod(0o640)  # replacing a file keeps the mode the user gave it
        atomic_write_json(tmp_path / "a.json", {"a": 2})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_an_exported_model_is_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["export", "lenet5", "--onnx", str(tmp_path / "m.onnx")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.onnx").stat().st_mode) == 0o644


def test_training_on_a_folder_with_corrupt_files_prints_only_our_lines(tmp_path, capfd):
    """OpenCV's "[ERROR:0@...] global loadsave.cpp ..." and libjpeg's "Corrupt JPEG data: ..." went
    straight to the process's stderr during the folder scan."""
    import cv2

    rng = np.random.default_rng(0)
    for name in ("dark", "light"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(tmp_path / "data" / name / f"{i}.png"), np.full((12, 12), 30 if name == "dark" else 220,
                                                                           np.uint8))
    photo = (rng.random((48, 48, 3)) * 255).astype(np.uint8)
    jpeg = bytearray(cv2.imencode(".jpg", photo)[1].tobytes())
    for i in range(300, 400):
        jpeg[i] = 0xFF if i % 7 == 0 else jpeg[i] ^ 0x55  # decodes, with libjpeg warnings
    (tmp_path / "data" / "dark" / "damaged.jpg").write_bytes(bytes(jpeg))
    (tmp_path / "data" / "dark" / "empty-bitmap.bmp").write_bytes(b"BM" + bytes(40))
    (tmp_path / "data" / "light" / "text.png").write_bytes(b"not an image at all")
    spec = {
        "format": "cnnstudio-network", "version": 1, "input": {"channels": 1, "height": 12, "width": 12},
        "classes": ["dark", "light"],
        "layers": [{"id": "flat", "type": "flatten"}, {"id": "out", "type": "linear", "out_features": 2}],
    }
    import json

    (tmp_path / "net.json").write_text(json.dumps(spec))
    code = main(["train", str(tmp_path / "net.json"), "--data", str(tmp_path / "data"), "--epochs", "1",
                 "--device", "cpu", "--threads", "1", "--out", str(tmp_path / "run")])
    err = capfd.readouterr().err
    assert code == 0
    assert "skipped" in err and "empty-bitmap.bmp" in err
    for foreign in ("[ERROR", "[ WARN", "WARN:", "Corrupt JPEG", "libpng", "loadsave.cpp"):
        assert foreign not in err, err
