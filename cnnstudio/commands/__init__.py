"""Headless subcommands of the ``cnnstudio`` CLI, one module each.

Each module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; the CLI
discovers them, so adding a command is adding a module. Modules import torch and friends inside
``run`` so that ``cnnstudio --help`` stays fast. A :class:`cnnstudio.core.errors.UserError` raised
from ``run`` becomes one clear line on stderr and exit status 2.
"""
