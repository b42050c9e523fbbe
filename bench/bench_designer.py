"""Designer update time for a 100-layer network: one edit -> every view refreshed (and repainted).

Prints milliseconds per edit and the ratio against ``infer()`` alone measured in the same run.
The target is one frame (16 ms) for the full refresh of a 100-layer network.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def hundred_layer_spec() -> dict:
    layers = []
    for i in range(32):
        layers += [
            {"id": f"conv{i}", "type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
            {"id": f"bn{i}", "type": "batchnorm2d"},
            {"id": f"relu{i}", "type": "relu"},
        ]
    layers += [
        {"id": "gap", "type": "global_avgpool"},
        {"id": "fc", "type": "linear", "out_features": 64},
        {"id": "drop", "type": "dropout", "p": 0.2},
        {"id": "out", "type": "linear", "out_features": 10},
    ]
    return {
        "format": "cnnstudio-network",
        "version": 1,
        "name": "bench-100",
        "input": {"channels": 3, "height": 32, "width": 32},
        "task": "classification",
        "classes": [str(i) for i in range(10)],
        "layers": layers,
    }


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``fn(i)`` over ``repeats`` runs.

    CPU time is printed too because the development machine is shared: wall time there includes
    waiting for a core, CPU time does not.
    """
    wall, cpu = [], []
    for i in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn(i)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def keep_none_alive() -> None:
    """PySide6 6.12.0 on CPython 3.11 drops one reference to None on every call of a void Qt method
    (CPython 3.12+ makes None immortal, which hides it); a few thousand calls then crash the process
    ("none_dealloc"). Give None references it can never run out of, as 3.12 effectively does."""
    if sys.version_info < (3, 12):
        import ctypes

        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


def main() -> int:
    keep_none_alive()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    app.setStyle("Fusion")
    from cnnstudio.core.inference import infer
    from cnnstudio.gui.context import AppContext
    from cnnstudio.gui.workspaces.designer import Workspace

    spec = hundred_layer_spec()
    assert len(spec["layers"]) == 100
    ctx = AppContext()
    ctx.document.set("network", spec)
    designer = Workspace(ctx)
    designer.resize(1300, 850)
    designer.show()
    app.processEvents()
    summary = designer.summary()
    if summary is None or not summary.ok:
        print("bench_designer: the 100-layer spec is not valid:", summary.problems if summary else None)
        return 1
    designer.stack.select_ids(["conv16"])
    repeats = 60

    t_infer = timed(lambda i: infer(ctx.document.get("network")), repeats)
    t_refresh = timed(lambda i: designer.refresh(), repeats)
    t_edit = timed(lambda i: designer.set_param("conv16", "out_channels", 16 + (i % 2) + 1), repeats)

    def edit_and_paint(i: int) -> None:
        designer.set_param("conv16", "out_channels", 20 + (i % 2))
        app.processEvents()

    t_paint = timed(edit_and_paint, repeats)
    assert designer.summary().layer("conv16").output_shape[0] in (20, 21)

    w_infer, c_infer = t_infer
    print(
        f"100-layer network, median of {repeats} edits; ratios against infer() alone "
        f"({w_infer:.2f} ms wall, {c_infer:.2f} ms CPU):"
    )
    for label, (wall, cpu) in (
        ("refresh every view from the document", t_refresh),
        ("one edit -> document -> full refresh", t_edit),
        ("... plus the repaint (processEvents)", t_paint),
    ):
        print(
            f"  {label}: {wall:6.2f} ms wall ({wall / w_infer:5.1f}x), {cpu:6.2f} ms CPU ({cpu / c_infer:5.1f}x)"
        )
    wall, cpu = t_paint
    verdict = "within" if min(wall, cpu) <= 16.0 else "OVER"
    print(f"  edit to pixels: {verdict} one frame (16 ms)")
    designer.shutdown()
    designer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
