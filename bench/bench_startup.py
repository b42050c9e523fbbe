"""Start-up: seconds from process start to the first painted main window (target: 1.0 s or less).

Baseline, measured in the same run: a bare PySide6 QMainWindow shown and painted by the same Python.
Prints the median of several runs of each and their ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = 5
BARE = r"""
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
from cnnstudio.app import process_uptime
app = QApplication([])
w = QMainWindow(); w.resize(1400, 880)
class F(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            print(f"first-paint {process_uptime():.3f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
f = F(); w.installEventFilter(f); w.show()
app.exec()
"""


def _measure(cmd: list[str]) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - t0
    for line in out.stdout.splitlines():
        if line.startswith("first-paint "):
            return float(line.split()[1])
    raise RuntimeError(f"no first-paint line from {cmd}: {out.stdout} {out.stderr} ({wall:.2f}s)")


def main() -> None:
    app_cmd = [sys.executable, "-m", "cnnstudio", "--quit-after-paint"]
    bare_cmd = [sys.executable, "-c", BARE]
    _measure(app_cmd)  # warm the OS file cache
    app = statistics.median(_measure(app_cmd) for _ in range(RUNS))
    bare = statistics.median(_measure(bare_cmd) for _ in range(RUNS))
    print(f"startup: main window painted after {app:.3f} s (target <= 1.0 s): {'OK' if app <= 1.0 else 'SLOW'}")
    print(f"startup: bare PySide6 window painted after {bare:.3f} s")
    print(f"startup: ratio app / bare = {app / bare:.2f}")


if __name__ == "__main__":
    main()
