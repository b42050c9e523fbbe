"""Entry point: no arguments, a file to open (or --smoke-test) opens the GUI; a subcommand runs headless."""

from __future__ import annotations

import os
import sys
from pathlib import PurePath

GUI_FLAGS = {"--smoke-test", "--quit-after-paint"}


def opens_gui(argv: list[str]) -> bool:
    """True for the GUI's arguments: none, its flags, or a file (``cnnstudio demo.cnnproj``).

    A file is told from a command by its suffix or a folder separator: command names have neither."""
    if not argv:
        return True
    first = argv[0]
    if first in GUI_FLAGS or first.startswith("--smoke-test="):
        return True
    separators = {os.sep, os.altsep} - {None}
    return not first.startswith("-") and (bool(PurePath(first).suffix) or any(s in first for s in separators))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if opens_gui(argv):
        from cnnstudio.app import main as app_main

        return app_main(argv)
    from cnnstudio.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
