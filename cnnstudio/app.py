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
    parser.add_argument("files", nargs="*", metavar="FILE", help="a project (.cnnproj), image or .onnx model to open")
    parser.add_argument("--smoke-test", metavar="DIR")
    parser.add_argument("--quit-after-paint", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _cannot_open(path: Path) -> str | None:
    """Why the app cannot open ``path`` given on its command line (None: it can)."""
    from cnnstudio.core.project import PROJECT_SUFFIX
    from cnnstudio.ml.preprocess import IMAGE_SUFFIXES

    if not path.is_file():
        return f"{path} {'is a folder, not a file' if path.is_dir() else 'does not exist'}."
    if path.suffix.lower() not in {PROJECT_SUFFIX, ".onnx", ".json", *IMAGE_SUFFIXES}:
        return (f"{path.name} is not a file CNN Studio opens: give a project ({PROJECT_SUFFIX}), an image, "
                "an .onnx model or a network spec (.json), or a command (cnnstudio --help).")
    return None


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
    files = [Path(f) for f in args.files]
    problem = next(filter(None, map(_cannot_open, files)), None)
    if problem:
        print(f"cnnstudio: error: {problem}", file=sys.stderr)
        return 2
    settings_dir = None
    if args.smoke_test:
        import tempfile

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        settings_dir = tempfile.mkdtemp(prefix="cnnstudio-smoke-")  # fresh defaults, user's untouched
        os.environ.setdefault("CNNSTUDIO_HOME", os.path.join(settings_dir, "home"))
    from cnnstudio.gui.platform_check import display_problem

    problem = display_problem()  # before Qt, which would abort with a page of text
    if problem:
        print(f"cnnstudio: {problem}", file=sys.stderr)
        return 2
    app = create_application(settings_dir=settings_dir)
    desktop = not args.smoke_test and not args.quit_after_paint
    if desktop and files:
        from cnnstudio.gui.single_instance import send_to_running

        if send_to_running(files):  # the running app opens them
            return 0
    from cnnstudio.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if not args.smoke_test:
        from cnnstudio.gui.desktop_open import start_desktop
        from cnnstudio.gui.errors import ExceptionDialogs

        opener = start_desktop(window, files, listen=desktop)
        ExceptionDialogs(lambda: opener.current_window() or window).install()
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
    """Show every workspace (both themes, its size and 1280x720) and save screenshots; non-zero if one is blank."""
    from cnnstudio.gui import smoke

    app.processEvents()
    startup = process_uptime()
    problems, warnings = smoke.run(app, window, out_dir)
    print(f"smoke-test: main window painted {startup:.2f} s after process start", flush=True)
    smoke.report(warnings)
    window.ctx.document.mark_clean()
    window.close()
    app.processEvents()
    for problem in problems:
        print(f"smoke-test: error: {problem}", file=sys.stderr)
    return 1 if problems else 0
