"""What bench_detection.py and bench_segmentation.py share (dense tasks: a map out, decoded per frame).

Importing it puts the repository root on sys.path, so the scripts run from anywhere. Not a benchmark
itself (run_all.py runs only bench_*.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the templates train on [0, 1] images normalised to [-1, 1]
FITTED_PREPROCESS = {"mean": [0.5] * 3, "std": [0.5] * 3}


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def untrained_output(spec: dict, x):
    """The raw output of the template, freshly initialised (seed 0), on the [0, 1] images x."""
    import torch

    from cnnstudio.ml.builder import build_model

    torch.manual_seed(0)
    model = build_model({**spec, "preprocess": FITTED_PREPROCESS}).eval()
    with torch.no_grad():
        return model((x - 0.5) / 0.5)


def live_rates(onnx_path, frames: list, n: int) -> tuple[float, float, float]:
    """(fps of the live pipeline with drawing, fps of a bare ONNX Runtime loop on the same preprocessed
    input, objects per frame) over n frames cycled from the BGR 640x480 frames."""
    import onnxruntime as ort

    from cnnstudio.ml.preprocess import to_model_input
    from cnnstudio.ml.video.pipeline import LivePipeline
    from cnnstudio.ml.video.runners import OnnxRunner

    runner = OnnxRunner(onnx_path)
    pipeline = LivePipeline(runner, roi=None, top_k=3, draw=True)
    for f in frames[:5]:
        pipeline.process(f.copy())
    t0 = time.perf_counter()
    found = 0
    for i in range(n):
        found += len(pipeline.process(frames[i % len(frames)].copy()).objects)
    fps = n / (time.perf_counter() - t0)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = to_model_input(frames[0][..., ::-1], runner.meta)
    name = session.get_inputs()[0].name
    t0 = time.perf_counter()
    for _ in range(n):
        session.run(None, {name: x})
    return fps, n / (time.perf_counter() - t0), found / n
