"""Compute device detection (CUDA GPU, Apple MPS or CPU) and library versions for About."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from cnnstudio.core.errors import UserError


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda", "mps" or "cpu"
    name: str  # human readable, e.g. "NVIDIA H100 80GB HBM3" or "CPU (x86_64, 2 threads)"

    @property
    def label(self) -> str:
        return {"cuda": "CUDA GPU", "mps": "Apple MPS", "cpu": "CPU"}[self.kind] + f": {self.name}"


def detect_device() -> DeviceInfo:
    """The best device torch can use here."""
    import torch

    if torch.cuda.is_available():
        return DeviceInfo("cuda", torch.cuda.get_device_name(0))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return DeviceInfo("mps", "Apple GPU")
    return DeviceInfo("cpu", f"{platform.machine() or 'CPU'}, {torch.get_num_threads()} threads")


def resolve_device(choice: str = "auto"):
    """Turn ``auto|cpu|cuda|mps`` into a ``torch.device``; a device that is not there is a UserError."""
    import torch

    choice = (choice or "auto").lower()
    if choice == "auto":
        return torch.device(detect_device().kind)
    if choice == "cpu":
        return torch.device("cpu")
    if choice.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("CUDA was asked for, but no CUDA GPU is available here; use --device cpu or auto.")
        return torch.device(choice)
    if choice == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UserError("Apple MPS was asked for, but it is not available here; use --device cpu or auto.")
        return torch.device("mps")
    raise UserError(f"Unknown device {choice!r}: choose auto, cpu, cuda or mps.")


def library_versions() -> dict[str, str]:
    """Versions of the libraries About shows (imports them; call off the GUI thread)."""
    import cv2
    import onnxruntime
    import torch

    return {
        "PyTorch": torch.__version__,
        "ONNX Runtime": onnxruntime.__version__,
        "OpenCV": cv2.__version__,
        "Python": platform.python_version(),
    }
