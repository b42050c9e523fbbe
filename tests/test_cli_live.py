"""``cnnstudio live --headless``: JSON lines per frame, a summary, one clear line for bad input."""

from __future__ import annotations

import json

import cv2
import pytest

from cnnstudio.cli import main as cli_main
from cnnstudio.ml.video import _testing as fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory, live_models):
    folder = tmp_path_factory.mktemp("cli-live")
    return {"video": fixtures.write_test_video(folder / "clip.avi", frames=10, width=320, height=240), **live_models}


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.strip().splitlines()]


def test_headless_prints_a_line_per_frame_and_a_summary(files, capsys):
    assert cli_main(["live", "--source", str(files["video"]), "--model", str(files["ink"]), "--headless"]) == 0
    lines = _lines(capsys.readouterr().out)
    frames, summary = lines[:-1], lines[-1]
    assert [f["frame"] for f in frames] == list(range(10))
    assert [f["class"] for f in frames] == ["blank"] * 5 + ["ink"] * 5
    assert all(0.5 < f["probability"] <= 1.0 for f in frames)
    assert summary["summary"] is True and summary["frames"] == 10 and summary["fps"] > 0
    assert set(summary["mean_ms"]) == {"capture", "preprocess", "inference", "drawing"}
    assert summary["provider"] == "CPUExecutionProvider"


def test_max_frames_box_and_recording(files, tmp_path, capsys):
    out = tmp_path / "annotated.avi"
    code = cli_main(["live", "--source", str(files["video"]), "--model", str(files["box"]), "--headless",
                     "--max-frames", "3", "--full-frame", "--record", str(out)])
    assert code == 0
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 4 and lines[-1]["frames"] == 3
    assert lines[0]["box"] == [0.25, 0.25, 0.5, 0.5]
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()


def test_an_image_folder_gives_one_line_per_image(files, tmp_path, capsys):
    for i, digit in enumerate([None, "8"]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), fixtures.paper_frame(200, 200, digit))
    assert cli_main(["live", "--source", str(tmp_path), "--model", str(files["ink"]), "--headless", "--quiet"]) == 0
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0]["frames"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "9"], "Camera 9 is not available"),
        (["--source", "nowhere.avi"], "does not exist"),
        (["--source", "{ink}"], "not a readable video"),
        (["--model", "{video}"], "not an ONNX model"),
        (["--model", "missing.onnx"], "does not exist"),
        (["--roi", "1,2"], "--roi"),
        (["--provider", "cuda"], "no cuda provider"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(files, capsys, args, message, monkeypatch):
    import cnnstudio.ml.video.sources as sources

    monkeypatch.setattr(sources, "_default_camera_factory", lambda index: cv2.VideoCapture())  # no real camera
    args = [a.format(ink=files["ink"], video=files["video"]) for a in args]
    base = {"--source": str(files["video"]), "--model": str(files["ink"])}
    for key, value in base.items():
        if key not in args:
            args += [key, value]
    if "--provider" in args and "cuda" in args:
        from cnnstudio.ml.onnx_model import available_providers

        if "CUDAExecutionProvider" in available_providers():
            pytest.skip("this machine has CUDA")
    code = cli_main(["live", "--headless", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_without_headless_it_points_to_the_app(files, capsys):
    assert cli_main(["live", "--source", str(files["video"])]) == 2
    assert "choose Live" in capsys.readouterr().err


def test_a_corrupt_image_file_as_source_is_named_in_one_line(files, tmp_path, capfd):
    image = tmp_path / "broken.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    assert cli_main(["live", "--headless", "--source", str(image), "--model", str(files["ink"])]) == 2
    err = capfd.readouterr().err
    assert err.strip().splitlines() == ["cnnstudio live: error: broken.png is not a readable image "
                                        "(corrupt or an unsupported format)."]
