"""Entry point: no arguments (or --smoke-test) opens the GUI; a subcommand runs headless."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    gui_flags = {"--smoke-test", "--quit-after-paint"}
    if not argv or argv[0] in gui_flags or argv[0].startswith("--smoke-test="):
        from cnnstudio.app import main as app_main

        return app_main(argv)
    from cnnstudio.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
