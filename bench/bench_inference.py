"""Shape inference speed: a 200-layer spec through ``infer`` vs PyTorch building it to learn its shapes.

Target: 5 ms or less per inference of the 200-layer spec (the designer re-infers on every edit).
The baseline is what finding the shapes with torch costs: building the modules from the spec and
running a batch of one through them (on the ``meta`` device, so no arithmetic, only shape logic).
"""

from __future__ import annotations

import statistics
import time


def spec_200() -> dict:
    layers: list[dict] = []
    channels = 16
    kinds = ["conv2d", "batchnorm2d", "relu", "dropout"]
    i = 0
    while len(layers) < 197:
        kind = kinds[i % len(kinds)]
        if kind == "conv2d":
            layers.append({"id": f"conv{i}", "type": "conv2d", "out_channels": channels, "kernel_size": 3,
                           "padding": 1})
        elif kind == "dropout":
            layers.append({"id": f"drop{i}", "type": "dropout", "p": 0.1})
        else:
            layers.append({"id": f"{kind}{i}", "type": kind})
        i += 1
    layers += [
        {"id": "pool", "type": "maxpool2d", "kernel_size": 2},
        {"id": "flat", "type": "flatten"},
        {"id": "out", "type": "linear", "out_features": 10},
    ]
    return {
        "format": "cnnstudio-network", "version": 1, "name": "deep",
        "input": {"channels": 3, "height": 32, "width": 32},
        "classes": [str(c) for c in range(10)],
        "layers": layers,
    }


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    import torch

    from cnnstudio.core.inference import infer
    from cnnstudio.core.spec import load_spec
    from cnnstudio.ml.builder import build_model

    spec = spec_200()
    assert len(spec["layers"]) == 200
    summary = infer(spec)
    assert summary.ok, summary.problems
    filled = load_spec(spec)

    def torch_shapes():
        with torch.device("meta"):
            model = build_model(filled)
            model(torch.empty(1, 3, 32, 32))

    infer_best, infer_median = best_ms(lambda: infer(spec), 50)
    infer_filled, _ = best_ms(lambda: infer(filled), 50)
    torch_best, torch_median = best_ms(torch_shapes, 10)
    print(f"infer(200-layer spec): best {infer_best:.2f} ms, median {infer_median:.2f} ms (target <= 5 ms)")
    print(f"infer(filled 200-layer spec): best {infer_filled:.2f} ms")
    print(f"torch build + meta forward: best {torch_best:.2f} ms, median {torch_median:.2f} ms")
    print(f"ratio torch / infer (best): {torch_best / infer_best:.1f}x faster without torch")
    print(f"within target: {'yes' if infer_median <= 5.0 else 'NO'}")


if __name__ == "__main__":
    main()
