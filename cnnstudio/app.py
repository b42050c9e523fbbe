"""``main()``: the QApplication, settings, the main window; and the offscreen smoke test."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()


def process_uptime() -> float:
    """Seconds since this process started (from the OS where it says; else since this import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _T0


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cnnstudio")
    parser.add_argument("--smoke-test", metavar="DIR")
    parser.add_argument("--quit-after-paint", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def create_application(argv: list[str] | None = None, settings_dir: str | None = None):
    """The QApplication; ``settings_dir`` keeps settings away from the user's (smoke test)."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("CNN Studio")
        QCoreApplication.setApplicationName("CNN Studio")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        if settings_dir:
            QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
        app = QApplication(argv or ["cnnstudio"])
        app.setStyle("Fusion")
        from PySide6.QtGui import QIcon

        from cnnstudio.core.paths import resource

        app.setWindowIcon(QIcon(str(resource("icons", "cnnstudio.png"))))
        app.setApplicationDisplayName("CNN Studio")
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    from cnnstudio.gui.main_window import apply_theme

    apply_theme(str(QSettings().value("view/theme", "system")))
    return app


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    settings_dir = None
    if args.smoke_test:
        import tempfile

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        settings_dir = tempfile.mkdtemp(prefix="cnnstudio-smoke-")  # fresh defaults, user's untouched
        os.environ.setdefault("CNNSTUDIO_HOME", os.path.join(settings_dir, "home"))
    app = create_application(settings_dir=settings_dir)
    from cnnstudio.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if not args.smoke_test:
        from cnnstudio.gui.errors import ExceptionDialogs

        ExceptionDialogs(lambda: window).install()
    if args.smoke_test:
        try:
            return run_smoke_test(app, window, Path(args.smoke_test))
        finally:
            import shutil

            shutil.rmtree(settings_dir, ignore_errors=True)
    if args.quit_after_paint:
        _report_first_paint(window)
    return app.exec()


def _report_first_paint(window) -> None:
    """Print the process uptime at the window's first paint, then quit (used by bench/bench_startup.py)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
                self.seen = True
                print(f"first-paint {process_uptime():.3f}", flush=True)
                window.ctx.document.mark_clean()
                QTimer.singleShot(0, window.close)
            return False

    window._first_paint_filter = FirstPaint(window)
    window.installEventFilter(window._first_paint_filter)


def run_smoke_test(app, window, out_dir: Path) -> int:
    """Show every workspace in turn and save a screenshot of each; non-zero if one is blank."""
    from PySide6.QtCore import QDeadlineTimer, QThread

    app.processEvents()
    startup = process_uptime()
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = []
    for name in window.workspace_names():
        workspace = window.show_workspace(name)
        deadline = QDeadlineTimer(15000)
        while not workspace.smoke_ready() and not deadline.hasExpired():
            app.processEvents()
            QThread.msleep(20)
        for _ in range(5):
            app.processEvents()
        image = window.grab().toImage()
        path = out_dir / f"{name}.png"
        image.save(str(path))
        if _is_blank(image):
            problems.append(f"{name}: the screenshot is blank")
        print(f"smoke-test: {name} -> {path}", flush=True)
    print(f"smoke-test: main window painted {startup:.2f} s after process start", flush=True)
    window.ctx.document.mark_clean()
    window.close()
    app.processEvents()
    for problem in problems:
        print(f"smoke-test: error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _is_blank(image) -> bool:
    colours = set()
    step_x = max(1, image.width() // 40)
    step_y = max(1, image.height() // 40)
    for y in range(0, image.height(), step_y):
        for x in range(0, image.width(), step_x):
            colours.add(image.pixel(x, y))
            if len(colours) > 3:
                return False
    return True
