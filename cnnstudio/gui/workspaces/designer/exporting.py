"""Exports that need torch (ONNX, PyTorch source) run on a superqt worker so the window stays live."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

KINDS = ("onnx", "torch")


def run_export(kind: str, spec: dict, path: str) -> str:
    """Write ``spec`` as ``kind`` to ``path``; returns the sentence to show. Imports torch here, lazily."""
    target = Path(path)
    if kind == "onnx":
        import torch

        from cnnstudio.ml.builder import build_model
        from cnnstudio.ml.export import export_onnx, onnx_parity

        torch.manual_seed(0)
        model = build_model(spec)
        written = export_onnx(model, spec, target)
        diff = onnx_parity(model, written)
        return (
            f"Exported ONNX to {written} (freshly initialised weights, seed 0; "
            f"ONNX Runtime vs PyTorch max abs diff {diff:.2e})."
        )
    if kind == "torch":
        from cnnstudio.ml.export import export_torch_code

        written = export_torch_code(spec, target)
        return f"Exported PyTorch code to {written}."
    raise ValueError(f"unknown export kind {kind!r}")


class ExportRunner(QObject):
    """Runs one export at a time on a worker thread; reports with ``finished(ok, message)``."""

    finished = Signal(bool, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._idle = threading.Event()
        self._idle.set()
        self._worker = None

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def start(self, kind: str, spec: dict, path: str) -> bool:
        """Start an export; False (and nothing started) while another one runs."""
        if self.busy:
            return False
        from superqt.utils import create_worker

        self._idle.clear()
        idle = self._idle

        def job() -> str:
            try:
                return run_export(kind, spec, path)
            finally:
                idle.set()

        worker = create_worker(job, _start_thread=False)
        worker.returned.connect(lambda message: self.finished.emit(True, message))
        worker.errored.connect(self._errored)
        self._worker = worker
        worker.start()
        return True

    def _errored(self, exc: BaseException) -> None:
        from cnnstudio.core.errors import UserError

        if isinstance(exc, UserError):
            message = str(exc)
        elif isinstance(exc, OSError):
            message = f"The file could not be written: {exc.strerror or exc}."
        else:
            message = f"The export failed: {type(exc).__name__}: {exc}"
        self.finished.emit(False, message)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until the running export ends (for shutdown and tests); True when idle."""
        return self._idle.wait(timeout)
