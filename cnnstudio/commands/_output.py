"""Terminal output helpers shared by the CLI commands: tables, JSON and a progress bar with ETA."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    """One JSON document on one line (machine readable)."""
    (stream or sys.stdout).write(json.dumps(obj, ensure_ascii=False) + "\n")
    (stream or sys.stdout).flush()


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain-text table; ``align`` is one of 'l'/'r' per column (default: numbers right)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if align is None:
        align = "".join(
            "r" if rows and all(isinstance(row[i], (int, float)) for row in rows) else "l"
            for i in range(len(headers))
        )
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """A one-line progress bar with rate and ETA on stderr (redrawn at most 10 times a second)."""

    def __init__(self, total: int, label: str = "", unit: str = "it", stream: TextIO | None = None):
        self.total = max(1, int(total))
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.suffix = ""
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, done: int | None = None, suffix: str | None = None, advance: int = 0) -> None:
        self.done = self.done + advance if done is None else done
        if suffix is not None:
            self.suffix = suffix
        now = time.perf_counter()
        if now - self._last_draw >= 0.1 or self.done >= self.total:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self._start
        frac = min(1.0, self.done / self.total)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(frac * 24)
        line = (
            f"{self.label} [{bar:<24}] {frac * 100:5.1f}% {self.done}/{self.total} "
            f"{rate:.1f} {self.unit}/s ETA {format_duration(eta)} {self.suffix}"
        )
        if self._tty:
            self.stream.write("\r" + line.ljust(100))
        elif self.done >= self.total:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
