"""Where bundled resources, model templates and per-user data live.

Resources are found from a source checkout (``<repo>/resources``), an installed wheel
(``cnnstudio/resources``, copied there by setup.py) and a PyInstaller bundle (``sys._MEIPASS``) alike.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _candidates(name: str) -> list[Path]:
    out = [_PACKAGE / name, _PACKAGE.parent / name]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        out.insert(0, Path(frozen) / "cnnstudio" / name)
        out.insert(1, Path(frozen) / name)
    return out


@cache
def _find(name: str) -> Path:
    for candidate in _candidates(name):
        if candidate.is_dir():
            return candidate
    return _candidates(name)[-1]


def resources_dir() -> Path:
    """The folder of bundled resources (sample images, icons, lecture grids)."""
    return _find("resources")


def models_dir() -> Path:
    """The folder of bundled network templates and the bundled trained model."""
    return _find("models")


def docs_dir() -> Path:
    """The folder of the user guide (``docs/*.md`` and ``docs/images``), shown by Help → User Guide."""
    return _find("docs")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user data folder (datasets, caches). ``CNNSTUDIO_HOME`` overrides it (tests use this)."""
    override = os.environ.get("CNNSTUDIO_HOME")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("CNN Studio", "CNN Studio"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    path = user_data_dir() / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path
