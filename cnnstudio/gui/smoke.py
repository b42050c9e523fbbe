"""The offscreen smoke test: every workspace, in the light and the dark theme, at the window's size and at
1280x720; a screenshot of each and a report of text that does not fit at 1280x720."""

from __future__ import annotations

import sys
from pathlib import Path

#: the smallest screen the app is made for
SMALL = (1280, 720)
THEMES = ("light", "dark")


def wait_ready(app, workspace, timeout_ms: int = 15000) -> None:
    from PySide6.QtCore import QDeadlineTimer, QThread

    deadline = QDeadlineTimer(timeout_ms)
    while not workspace.smoke_ready() and not deadline.hasExpired():
        app.processEvents()
        QThread.msleep(20)
    _settle(app, 5)


def _settle(app, rounds: int = 6) -> None:
    for _ in range(rounds):
        app.processEvents()


def run(app, window, out_dir: Path) -> tuple[list[str], list[str]]:
    """Screenshots into ``out_dir``; returns (problems that fail the test, layout warnings).

    ``NAME.png`` is each workspace at the window's own size in the theme it starts in (what packaging
    checks); ``NAME-THEME-WxH.png`` are the four views of each workspace.
    """
    from cnnstudio.gui.layout_check import layout_problems
    from cnnstudio.gui.main_window import apply_theme

    out_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    warnings: list[str] = []
    size = (window.width(), window.height())
    for name in window.workspace_names():
        workspace = window.show_workspace(name)
        wait_ready(app, workspace)
        image = window.grab().toImage()
        path = out_dir / f"{name}.png"
        image.save(str(path))
        if is_blank(image):
            problems.append(f"{name}: the screenshot is blank")
        print(f"smoke-test: {name} -> {path}", flush=True)
    start_theme = str(window.ctx.settings.value("view/theme", "system"))
    for theme in THEMES:
        apply_theme(theme)
        for width, height in (size, SMALL):
            window.resize(width, height)
            _settle(app)
            if (window.width(), window.height()) != (width, height):
                warnings.append(f"{theme} {width}x{height}: the window cannot be that size "
                                f"(it is {window.width()}x{window.height()})")
            for name in window.workspace_names():
                workspace = window.show_workspace(name)
                _settle(app)
                path = out_dir / f"{name}-{theme}-{width}x{height}.png"
                window.grab().save(str(path))
                if (width, height) == SMALL and theme == THEMES[0]:
                    warnings += [f"{name} at {width}x{height}: {p}" for p in layout_problems(workspace)]
        print(f"smoke-test: {theme} theme at {size[0]}x{size[1]} and {SMALL[0]}x{SMALL[1]} -> "
              f"{out_dir}/*-{theme}-*.png", flush=True)
    apply_theme(start_theme)
    window.resize(*size)
    return problems, warnings


def is_blank(image) -> bool:
    colours = set()
    step_x = max(1, image.width() // 40)
    step_y = max(1, image.height() // 40)
    for y in range(0, image.height(), step_y):
        for x in range(0, image.width(), step_x):
            colours.add(image.pixel(x, y))
            if len(colours) > 3:
                return False
    return True


def report(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"smoke-test: layout: {warning}", file=sys.stderr)


__all__ = ["SMALL", "THEMES", "is_blank", "run"]
