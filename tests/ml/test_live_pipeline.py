"""The live pipeline: region of interest, preprocessing from metadata, inference, overlay, recording."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.model_meta import ModelMeta, Preprocess
from cnnstudio.ml.video import _testing as fixtures
from cnnstudio.ml.video import overlay
from cnnstudio.ml.video.pipeline import CENTRED_SQUARE, LivePipeline, fit_to_input, roi_pixels
from cnnstudio.ml.video.recorder import VideoRecorder, save_snapshot
from cnnstudio.ml.video.runners import OnnxRunner, TorchRunner, load_runner, provider_choices
from cnnstudio.ml.video.session import LiveSession
from cnnstudio.ml.video.sources import VideoFileSource


@pytest.fixture(scope="module")
def models(live_models):
    return live_models


def test_a_blank_page_and_a_drawn_digit_get_different_answers(models):
    pipeline = LivePipeline(OnnxRunner(models["ink"]))
    blank = pipeline.process(fixtures.paper_frame())
    digit = pipeline.process(fixtures.paper_frame(digit="7"))
    assert blank.label == "blank" and blank.top[0][2] > 0.9
    assert digit.label == "ink" and digit.top[0][2] > 0.9
    assert digit.to_json() == {"frame": 1, "class": "ink", "class_index": 1,
                               "probability": round(digit.top[0][2], 6)}


def test_only_the_region_of_interest_reaches_the_model(models):
    frame = fixtures.paper_frame()
    frame[20:100, 20:100] = 20  # a dark blot in the top-left corner, outside the centred square
    pipeline = LivePipeline(OnnxRunner(models["ink"]), roi=CENTRED_SQUARE)
    assert pipeline.process(frame.copy()).label == "blank"
    pipeline.roi = (0.0, 0.0, 0.2, 0.25)
    result = pipeline.process(frame.copy())
    assert result.label == "ink"
    assert result.roi == (0, 0, 128, 120)


def test_the_predicted_box_is_mapped_to_the_frame_and_drawn(models):
    pipeline = LivePipeline(OnnxRunner(models["box"]), roi=None)
    frame = fixtures.paper_frame(digit="3")
    result = pipeline.process(frame)
    assert result.box == (160, 120, 320, 240)
    assert result.box_norm == pytest.approx((0.25, 0.25, 0.5, 0.5))
    assert result.to_json()["box"] == [0.25, 0.25, 0.5, 0.5]
    assert tuple(result.image[300, 161]) == overlay.BOX  # the box's left edge, in the box colour
    # inside a region, the box is relative to the region
    pipeline.roi = (0.5, 0.5, 0.5, 0.5)
    assert pipeline.process(fixtures.paper_frame()).box == (400, 300, 160, 120)


def test_letterboxed_input_maps_the_box_back_through_the_padding():
    meta = ModelMeta(input_shape=(3, 32, 32), preprocess=Preprocess(resize="letterbox"))
    small, fit = fit_to_input(np.zeros((100, 200, 3), np.uint8), meta)
    assert small.shape == (32, 32, 3)
    assert (fit.pad_x, fit.pad_y) == (0, 8)
    from cnnstudio.ml.video.pipeline import _box_to_frame

    assert _box_to_frame((0.0, 0.25, 1.0, 0.5), (0, 0, 200, 100), fit, meta) == (0, 0, 200, 100)


def test_overlay_is_drawn_only_when_asked(models):
    frame = fixtures.paper_frame(digit="1")
    quiet = LivePipeline(OnnxRunner(models["ink"]), draw=False).process(frame.copy())
    assert np.array_equal(quiet.image, frame)
    assert quiet.timings.drawing == 0.0
    drawn = LivePipeline(OnnxRunner(models["ink"])).process(frame.copy())
    assert tuple(drawn.image[2, 2]) == overlay.PANEL  # the top-k panel
    assert tuple(drawn.image[-2, -2]) == overlay.PANEL  # the FPS and latency strip
    t = drawn.timings
    assert t.preprocess > 0 and t.inference > 0 and t.drawing > 0


def test_torch_model_gives_the_same_answer_as_its_onnx_export(models):
    frame = fixtures.paper_frame(digit="4")
    onnx_result = LivePipeline(OnnxRunner(models["ink"]), draw=False).process(frame.copy())
    runner = TorchRunner(fixtures.ink_model_module(), fixtures.ink_meta())
    torch_result = LivePipeline(runner, draw=False).process(frame.copy())
    assert torch_result.label == onnx_result.label
    assert torch_result.top[0][2] == pytest.approx(onnx_result.top[0][2], abs=1e-5)
    assert runner.provider.startswith("PyTorch")


def test_feature_maps_of_one_layer(models):
    runner = OnnxRunner(models["ink"])
    layers = runner.feature_layers()
    assert len(layers) == 3  # conv, relu, pool outputs
    pipeline = LivePipeline(runner)
    assert pipeline.process(fixtures.paper_frame(digit="2")).features is None
    runner.set_feature_layer(layers[0])
    mosaic = pipeline.process(fixtures.paper_frame(digit="2")).features
    assert mosaic.dtype == np.uint8 and mosaic.shape == (28, 57)  # 2 maps of 28x28 side by side
    assert mosaic.max() == 255
    with pytest.raises(UserError, match="no layer output"):
        runner.set_feature_layer("nope")
    runner.set_feature_layer(None)
    assert pipeline.process(fixtures.paper_frame()).features is None


def test_without_a_model_frames_pass_with_a_message():
    result = LivePipeline(None, no_model_message="No model").process(fixtures.paper_frame())
    assert result.top == [] and result.message == "No model"
    assert result.to_json() == {"frame": 0, "message": "No model"}


def test_bad_models_are_explained(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="does not exist"):
        load_runner(tmp_path / "missing.onnx")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="not an ONNX model"):
        load_runner(tmp_path / "notes.txt")
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(UserError, match="bad.onnx"):
        load_runner(tmp_path / "bad.onnx")
    import cnnstudio.ml.video.runners as runners

    monkeypatch.setattr(runners, "models_dir", lambda: tmp_path)
    with pytest.raises(UserError, match="bundled digits model"):
        load_runner(runners.bundled_model_path())


def test_a_run_folder_uses_its_exported_model(models, tmp_path):
    run = tmp_path / "run-1"
    run.mkdir()
    (run / "model.onnx").write_bytes(models["ink"].read_bytes())
    runner = load_runner(run)
    assert runner.kind == "onnx" and runner.meta.class_names == ("blank", "ink")


def test_providers_end_with_cpu():
    choices = provider_choices()
    assert choices[-1] == ("CPUExecutionProvider", "CPU")


def test_roi_pixels_are_clipped_to_the_frame():
    assert roi_pixels(640, 480, None) == (0, 0, 640, 480)
    assert roi_pixels(640, 480, CENTRED_SQUARE) == (176, 96, 288, 288)
    assert roi_pixels(100, 100, (0.9, 0.9, 0.5, 0.5)) == (90, 90, 10, 10)
    assert roi_pixels(100, 100, (1.2, -1.0, 0.0, 0.0))[2:] == (1, 1)


def test_snapshot_and_recording(tmp_path):
    frame = fixtures.paper_frame(160, 120, digit="5")
    path = save_snapshot(frame, tmp_path / "snap.png")
    assert cv2.imread(str(path)).shape == (120, 160, 3)
    with pytest.raises(UserError, match="Snapshots are saved as"):
        save_snapshot(frame, tmp_path / "snap.gif")
    recorder = VideoRecorder()
    with pytest.raises(UserError, match="Videos are recorded as"):
        recorder.start(tmp_path / "out.txt")
    recorder.start(tmp_path / "out.avi", fps=10)
    for _ in range(4):
        recorder.write(frame)
    recorder.write(fixtures.paper_frame(80, 60))  # another size is scaled to the first
    assert recorder.stop() == (tmp_path / "out.avi", 5)
    cap = cv2.VideoCapture(str(tmp_path / "out.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    cap.release()


def test_a_session_runs_capture_and_inference_threads_and_records(models, tmp_path):
    video = fixtures.write_test_video(tmp_path / "clip.avi", frames=20, width=160, height=120)
    session = LiveSession(LivePipeline(OnnxRunner(models["ink"])))
    labels = set()
    serial = 0
    try:
        session.start(VideoFileSource(video, loop=True))
        session.recorder.start(tmp_path / "rec.avi", fps=30)
        deadline = time.monotonic() + 20
        while labels != {"blank", "ink"} and time.monotonic() < deadline:
            serial, result = session.latest(serial)
            if result is not None:
                labels.add(result.label)
            time.sleep(0.005)
    finally:
        session.stop()
    assert labels == {"blank", "ink"}
    cap = cv2.VideoCapture(str(tmp_path / "rec.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) > 0
    cap.release()
    assert not session.recorder.active


def test_a_run_without_export_runs_on_torch(tmp_path, monkeypatch):
    import cnnstudio.ml.runs as runs

    spec = {"input": {"channels": 1, "height": 28, "width": 28}, "classes": ["blank", "ink"],
            "preprocess": {"invert": True}, "name": "ink run"}
    monkeypatch.setattr(runs, "load_run_model", lambda run_dir: (spec, fixtures.ink_model_module()))
    run = tmp_path / "run-2"
    run.mkdir()
    runner = load_runner(run)
    assert runner.kind == "torch" and runner.name == "run run-2 (PyTorch)"
    assert LivePipeline(runner).process(fixtures.paper_frame(digit="9")).label == "ink"


def test_a_provider_that_is_not_there_falls_back_to_the_cpu(models):
    runner = OnnxRunner(models["ink"], provider="NoSuchExecutionProvider")
    assert runner.provider == "CPUExecutionProvider"
    assert "NoSuch" in runner.note and "CPU" in runner.note


def test_a_runs_export_is_named_after_the_run(models, tmp_path):
    run = tmp_path / "lenet-a"
    run.mkdir()
    (run / "model.onnx").write_bytes(models["ink"].read_bytes())
    (run / "config.json").write_text("{}")
    runner = load_runner(run)
    assert runner.name == "run lenet-a" and runner.provider_label == "CPU"
    assert load_runner(models["ink"]).name == models["ink"].name  # a plain file keeps its file name


def test_the_bundled_digits_model_sees_a_live_frame_as_predict_sees_the_image():
    """crop_to_content works on the region before it is shrunk to 28x28 (shrunk first, the ink is a few
    pixels and most digits came out as 4), so Live and ``cnnstudio predict`` agree on the same page."""
    from cnnstudio.ml.onnx_model import OnnxModel
    from cnnstudio.ml.video.runners import bundled_model_path

    model = OnnxModel(bundled_model_path())
    pipeline = LivePipeline(OnnxRunner(bundled_model_path()), roi=None, top_k=1, draw=False)
    agree = 0
    for digit in range(10):
        frame = np.full((480, 640, 3), 230, np.uint8)
        cv2.putText(frame, str(digit), (300, 260), cv2.FONT_HERSHEY_SIMPLEX, 3, (20, 20, 20), 9)
        expected = model.predict_image(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 1).label
        agree += pipeline.process(frame).label == expected == str(digit)
    assert agree >= 8
