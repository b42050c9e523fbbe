"""``cnnstudio live``: run a model on a camera, a video file or an image folder, frame by frame."""

from __future__ import annotations

import argparse
import time

from cnnstudio.commands._output import print_json
from cnnstudio.core.errors import UserError

NAME = "live"
HELP = "run a model live on a camera, video file or image folder (headless: JSON lines)"
DESCRIPTION = (
    "Run the Live pipeline (region of interest, preprocessing from the model's metadata, ONNX Runtime) "
    "without a window. Prints one JSON line per frame and a final summary line with frames, fps and mean "
    "latencies. The live window is the desktop app's Live workspace: run `cnnstudio` and choose Live."
)
ORDER = 60

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "coreml": "CoreMLExecutionProvider",
             "directml": "DmlExecutionProvider"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="0", metavar="INDEX_OR_FILE",
                        help="camera index (0, 1, …), video file, image folder or image file (default: camera 0)")
    parser.add_argument("--model", metavar="MODEL",
                        help="an .onnx model or a training run folder (default: the bundled digits model)")
    parser.add_argument("--headless", action="store_true", help="run without a window (required here)")
    parser.add_argument("--max-frames", type=int, default=0, metavar="N", help="stop after N frames (0: until the end)")
    parser.add_argument("--provider", default="cpu", choices=[*PROVIDERS, "auto"],
                        help="ONNX Runtime execution provider (auto: the best available; default cpu)")
    parser.add_argument("--roi", metavar="X,Y,W,H",
                        help="region the model sees, as fractions of the frame (default: centred square)")
    parser.add_argument("--full-frame", action="store_true", help="feed the whole frame, no region of interest")
    parser.add_argument("--top-k", type=int, default=3, metavar="K", help="classes in the overlay (default 3)")
    parser.add_argument("--record", metavar="VIDEO", help="also write the annotated frames to VIDEO (.avi/.mp4)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")


def _parse_roi(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(0.0 <= v <= 1.0 for v in values) or values[2] <= 0 or values[3] <= 0:
        raise UserError(f"--roi {text!r} is not four fractions X,Y,W,H between 0 and 1 (e.g. 0.2,0.2,0.6,0.6).")
    return values  # type: ignore[return-value]


def _provider(choice: str) -> str | None:
    if choice == "auto":
        return None
    from cnnstudio.ml.onnx_model import available_providers

    wanted = PROVIDERS[choice]
    if wanted not in available_providers():
        names = ", ".join(k for k, v in PROVIDERS.items() if v in available_providers())
        raise UserError(f"ONNX Runtime offers no {choice} provider here; available: {names}.")
    return wanted


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        raise UserError(
            "The live window is the desktop app's Live workspace: run `cnnstudio` and choose Live, "
            "or add --headless to run here without a window."
        )
    if args.max_frames < 0:
        raise UserError("--max-frames must be 0 (no limit) or more.")
    from cnnstudio.ml.video.pipeline import CENTRED_SQUARE, LivePipeline
    from cnnstudio.ml.video.runners import bundled_model_path, load_runner
    from cnnstudio.ml.video.sources import open_source

    roi = None if args.full_frame else (_parse_roi(args.roi) if args.roi else CENTRED_SQUARE)
    provider = None
    if args.provider != "auto":
        provider = _provider(args.provider)
    else:
        from cnnstudio.ml.onnx_model import available_providers

        provider = available_providers()[0]
    runner = load_runner(args.model or bundled_model_path(), provider)
    source = open_source(args.source)
    source.open()
    pipeline = LivePipeline(runner, roi=roi, top_k=args.top_k, draw=bool(args.record))
    recorder = None
    if args.record:
        from cnnstudio.ml.video.recorder import VideoRecorder

        recorder = VideoRecorder()
        recorder.start(args.record, source.fps or 30.0)
    try:
        summary = _loop(source, pipeline, recorder, args.max_frames, args.quiet)
    finally:
        source.close()
        if recorder is not None:
            recorder.stop()
    summary.update({"source": str(args.source), "model": runner.name, "provider": runner.provider})
    if args.record:
        summary["recording"] = str(args.record)
    print_json(summary)
    return 0


def _loop(source, pipeline, recorder, max_frames: int, quiet: bool) -> dict:
    """Files: every frame in order (decoding counted as capture). Cameras: the newest frame each time,
    through the capture thread, which also retries a camera that fails."""
    totals = {"capture": 0.0, "preprocess": 0.0, "inference": 0.0, "drawing": 0.0}
    frames = 0
    capture = None
    if source.live:
        from cnnstudio.ml.video.capture import CaptureThread

        capture = CaptureThread(source).start()
    last = -1
    start = time.perf_counter()
    try:
        while not max_frames or frames < max_frames:
            if capture is None:
                t0 = time.perf_counter()
                image = source.read()
                capture_ms = (time.perf_counter() - t0) * 1000.0
                if image is None:
                    break
                index = frames
            else:
                frame = capture.latest(after=last, timeout=0.5)
                if frame is None:
                    if capture.finished:
                        break
                    continue
                image, capture_ms, index, last = frame.image, frame.capture_ms, frame.index, frame.index
            result = pipeline.process(image, index, capture_ms)
            if recorder is not None:
                recorder.write(result.image)
            if not quiet:
                print_json(result.to_json())
            for key in totals:
                totals[key] += getattr(result.timings, key)
            frames += 1
    finally:
        if capture is not None:
            capture.stop()
    seconds = time.perf_counter() - start
    if frames == 0:
        raise UserError(f"{source.name} delivered no frames.")
    summary = {
        "summary": True,
        "frames": frames,
        "seconds": round(seconds, 4),
        "fps": round(frames / seconds, 2) if seconds > 0 else 0.0,
        "mean_ms": {key: round(value / frames, 4) for key, value in totals.items()},
    }
    if capture is not None:
        summary["dropped"] = capture.dropped
    return summary
