"""Versioned file formats: every file names its format and version; older versions are migrated.

A format registers one migration function per version step (``v -> v + 1``), as napari's settings
migrations and Orange's ``migrate_settings`` do. Newer-than-known versions raise a clear
:class:`FormatError` and are never silently read with loss.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import FormatError

Migration = Callable[[dict], dict]

_MIGRATIONS: dict[str, dict[int, Migration]] = {}


def register_migration(format_name: str, from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register ``fn(data) -> data`` that turns version ``from_version`` into the next one."""

    def decorate(fn: Migration) -> Migration:
        _MIGRATIONS.setdefault(format_name, {})[from_version] = fn
        return fn

    return decorate


def upgrade(data: Any, format_name: str, current_version: int, *, source: str = "the file") -> dict:
    """Check ``data`` is ``format_name`` and bring it to ``current_version``; return a new dict."""
    if not isinstance(data, dict):
        raise FormatError(f"{source} is not a {format_name} file (expected a JSON object).")
    found = data.get("format")
    if found != format_name:
        raise FormatError(f"{source} is not a {format_name} file (its format is {found!r}).")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError(f"{source} has no valid format version (found {version!r}).")
    if version > current_version:
        raise FormatError(
            f"{source} was written by a newer CNN Studio ({format_name} version {version}; "
            f"this version reads up to {current_version}). Update CNN Studio to open it."
        )
    data = copy.deepcopy(data)
    steps = _MIGRATIONS.get(format_name, {})
    while version < current_version:
        step = steps.get(version)
        if step is None:
            raise FormatError(f"{source}: no migration from {format_name} version {version}.")
        data = step(data)
        version += 1
        data["version"] = version
    return data


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """Read JSON from ``path``; any I/O or syntax problem becomes one clear :class:`FormatError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(f"The {what} {p} does not exist.") from None
    except IsADirectoryError:
        raise FormatError(f"The {what} {p} is a folder, not a file.") from None
    except UnicodeDecodeError:
        raise FormatError(f"The {what} {p} is not a text file; is it the right file?") from None
    except OSError as exc:
        raise FormatError(f"The {what} {p} cannot be read: {exc.strerror or exc}.") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise FormatError(f"The {what} {p} is nested too deeply to be a CNN Studio file.") from None
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"The {what} {p} is corrupt: invalid JSON at line {exc.lineno}, column {exc.colno}."
        ) from None
