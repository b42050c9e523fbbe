"""Before the QApplication: can Qt open a window here? If not, one clear sentence saying what to do.

Without this, a machine with no display or without the X11 plugin's system libraries gets Qt's
multi-line "could not load the Qt platform plugin" message and an abort (core dump). Only Linux (and
other X11 systems) can be in that state; with QT_QPA_PLATFORM set, the user has chosen and is trusted.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

#: sonames Qt's xcb plugin links whose Debian/Ubuntu package name is not soname-derived
_DEBIAN_PACKAGES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
HEADLESS_HINT = "set QT_QPA_PLATFORM=offscreen to run it headless"


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that usually ships ``soname`` (libxcb-cursor.so.0 -> libxcb-cursor0)."""
    if soname in _DEBIAN_PACKAGES:
        return _DEBIAN_PACKAGES[soname]
    match = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+).*", soname)
    if not match:
        return soname
    stem, major = match.group(1).lower(), match.group(2)
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def missing_library(error: str) -> str | None:
    """The library named in a dlopen error ("libxcb-cursor.so.0: cannot open shared object file ...")."""
    match = re.search(r"([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file", error)
    return match.group(1) if match else None


def xcb_plugin_path() -> Path | None:
    """Qt's X11 platform plugin (libqxcb.so) as Qt would find it: QT_PLUGIN_PATH first, then Qt's own."""
    dirs = [d for d in os.environ.get("QT_PLUGIN_PATH", "").split(os.pathsep) if d]
    try:
        from PySide6.QtCore import QLibraryInfo

        dirs.append(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    except ImportError:
        pass
    for folder in dirs:
        candidate = Path(folder) / "platforms" / "libqxcb.so"
        if candidate.is_file():
            return candidate
    return None


def _x11_display_problem(display: str) -> str | None:
    """None if the X server at ``display`` accepts a connection; else why not."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None  # reported through the plugin's libraries
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = not connection or xcb.xcb_connection_has_error(connection) != 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)
    if failed:
        return f"cannot connect to the X display {display!r} (is the desktop session running?); {HEADLESS_HINT}."
    return None


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None,
                    plugin: Path | None = None) -> str | None:
    """None when Qt can open a window; else one sentence that says what to install or set."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("QT_QPA_PLATFORM") or platform in ("win32", "darwin") or platform.startswith("cygwin"):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return None  # Qt's Wayland plugin is used: it needs no xcb libraries
    display = env.get("DISPLAY")
    if not display:
        return (f"no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): start it from a desktop "
                f"session, or {HEADLESS_HINT}.")
    plugin = plugin or xcb_plugin_path()
    if plugin is not None:
        try:
            ctypes.CDLL(str(plugin))
        except OSError as exc:
            exc = exc.__cause__ or exc  # a frozen app's ctypes wraps the loader's message (PyInstaller)
            soname = missing_library(str(exc))
            if soname is None:
                return f"Qt's X11 plugin {plugin} cannot be loaded ({exc}); {HEADLESS_HINT}."
            return (f"Qt's X11 plugin needs the system library {soname}, which is not installed: on "
                    f"Debian/Ubuntu run `sudo apt install {debian_package(soname)}` (the usual set: "
                    f"sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0), "
                    f"or {HEADLESS_HINT}.")
    return _x11_display_problem(display)
