"""Exports that need torch (ONNX, PyTorch source) run on a superqt worker so the window stays live."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cnnstudio.gui.workers import WorkerGroup

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
    """Runs one export at a time on a :class:`WorkerGroup`; reports with ``finished(ok, message)``."""

    finished = Signal(bool, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.workers = WorkerGroup(self)

    @property
    def busy(self) -> bool:
        return self.workers.busy()

    def start(self, kind: str, spec: dict, path: str) -> bool:
        """Start an export; False (and nothing started) while another one runs."""
        if self.busy:
            return False
        request = self.workers.run(_export_job, kind, spec, path, tag="export", failure="The export failed",
                                   on_done=lambda message: self.finished.emit(True, message),
                                   on_error=lambda message: self.finished.emit(False, message))
        return request is not None

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until the running export ends (for shutdown and tests); True when idle."""
        return self.workers.wait(timeout)

    def shutdown(self, timeout: float = 120.0) -> bool:
        """Let the running export finish (a half-written file helps nobody), then deliver nothing more."""
        return self.workers.shutdown(timeout)


def _export_job(kind: str, spec: dict, path: str) -> str:
    from cnnstudio.core.errors import UserError

    try:
        return run_export(kind, spec, path)
    except OSError as exc:
        raise UserError(f"The file could not be written: {exc.strerror or exc}.") from exc
