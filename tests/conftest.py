"""Test-wide set-up: offscreen Qt, settings and user data kept away from the real user's, leak checks."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CNNSTUDIO_HEADLESS_TESTS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests: the same examples on every run (CI must not be flaky) and no per-example deadline
# (a busy 2-core machine is slow). Run with HYPOTHESIS_PROFILE=explore to search new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Per-user data goes to a temporary folder, never the user's real one."""
    home = tmp_path_factory.mktemp("cnnstudio-home")
    monkeypatch.setenv("CNNSTUDIO_HOME", str(home))
    yield home


@pytest.fixture(autouse=True)
def _no_leaked_threads(request):
    """Fail a test that leaves a thread running (a worker it forgot to stop)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(("pydevd", "Dummy", "asyncio_"))
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"{request.node.nodeid} leaked threads: {[t.name for t in leaked]}", pytrace=False)


# Shared building blocks for tests in every folder. They are fixtures (not an importable module) because
# tests/ is not a package; each returns a fresh object or writes into its own temporary folder.


def _tiny_network(kind: str) -> dict:
    digits = kind == "digits"
    classes = [str(i) for i in range(10)] if digits else ["circle", "square", "triangle", "star", "cross"]
    channels, size, conv_channels, pool = (1, 12, 8, 2) if digits else (3, 24, 4, 4)
    spec = {
        "format": "cnnstudio-network", "version": 1, "name": f"tiny {kind}",
        "input": {"channels": channels, "height": size, "width": size},
        "task": "classification" if digits else "localization", "classes": classes,
        "preprocess": {"mean": [0.5], "std": [0.5]},
        "layers": [
            {"id": "c1", "type": "conv2d", "out_channels": conv_channels, "kernel_size": 3, "padding": 1},
            {"id": "r1", "type": "relu"},
            {"id": "p1", "type": "maxpool2d", "kernel_size": pool, "stride": pool},
            {"id": "flat", "type": "flatten"},
            {"id": "out", "type": "linear", "out_features": len(classes)},
        ],
    }
    if not digits:
        spec["box_head"] = {"from": "flat", "layers": [{"id": "b1", "type": "linear", "out_features": 4}]}
    return spec


@pytest.fixture(scope="session")
def tiny_spec():
    """``tiny_spec("digits")``: a 1x12x12 classifier for the ten digits; ``tiny_spec("shapes")``: a 3x24x24
    localizer (box head) for the five shapes. Both train in a second or two; each call gives a fresh dict."""

    def make(kind: str) -> dict:
        if kind not in ("digits", "shapes"):
            raise ValueError(f"tiny_spec knows 'digits' and 'shapes', not {kind!r}")
        return _tiny_network(kind)

    return make


@pytest.fixture(scope="session")
def write_plain_onnx():
    """``write_plain_onnx(path, input_shape, conv_channels=2, name="handmade")`` writes an ONNX classifier
    made with onnx.helper, without CNN Studio metadata (a model from "another exporter"):
    Conv (3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm with two scores. The tensors are named
    image, conv_out, relu_out, gap_out, flat_out, scores; the weights come from numpy's generator seeded 0
    (conv first, then the Gemm). Returns the conv weights."""

    def write(path, input_shape, conv_channels: int = 2, name: str = "handmade"):
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        rng = np.random.default_rng(0)
        w = rng.normal(size=(conv_channels, input_shape[1], 3, 3)).astype(np.float32)
        fc = rng.normal(size=(2, conv_channels)).astype(np.float32)
        nodes = [
            helper.make_node("Conv", ["image", "w"], ["conv_out"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["conv_out"], ["relu_out"]),
            helper.make_node("GlobalAveragePool", ["relu_out"], ["gap_out"]),
            helper.make_node("Flatten", ["gap_out"], ["flat_out"]),
            helper.make_node("Gemm", ["flat_out", "fc"], ["scores"], transB=1),
        ]
        graph = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(input_shape))],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [input_shape[0], 2])],
            initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(fc, "fc")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(path))
        return w

    return write


@pytest.fixture(scope="session")
def live_models(tmp_path_factory):
    """The hand-weighted ONNX models of cnnstudio.ml.video._testing, exported once per session:
    {"ink": classifier blank/ink (1x28x28), "box": localizer (3x32x32)}. Read them; copy before changing."""
    from cnnstudio.ml.video import _testing

    folder = tmp_path_factory.mktemp("live-models")
    return {
        "ink": _testing.write_ink_model(folder / "ink.onnx"),
        "box": _testing.write_box_model(folder / "box.onnx"),
    }
