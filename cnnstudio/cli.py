"""The headless ``cnnstudio`` command line: the same jobs as the GUI, scriptable.

Subcommands live in :mod:`cnnstudio.commands` (one module each) and are discovered here.
User mistakes exit 2 with one clear line; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import cnnstudio
import cnnstudio.commands as commands_pkg
from cnnstudio.core.errors import UserError


def _command_modules() -> list:
    modules = []
    for info in pkgutil.iter_modules(commands_pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            modules.append(module)
    return sorted(modules, key=lambda m: getattr(m, "ORDER", 50))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnstudio",
        description="CNN Studio: experiment with convolutional neural networks on images. "
        "Without a command it opens the desktop app; `cnnstudio FILE` opens the app on a project (.cnnproj), "
        "an image or an .onnx model.",
    )
    parser.add_argument("--version", action="version", version=f"CNN Studio {cnnstudio.__version__}")
    parser.add_argument(
        "--smoke-test",
        metavar="DIR",
        help="open the app offscreen, save a screenshot of every workspace to DIR and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP))
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"cnnstudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnnstudio {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and friends: stop quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
