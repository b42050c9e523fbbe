"""Progress events of dataset loading (a plain generator drives the GUI worker and the CLI alike)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadProgress:
    """``done`` of ``total`` steps finished (``total`` 0 = unknown); ``message`` says what is happening."""

    done: int
    total: int
    message: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0
