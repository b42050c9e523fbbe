"""Resources and models are found from a source checkout, an installed wheel and a frozen bundle alike."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cnnstudio.core import paths

ROOT = Path(__file__).resolve().parents[1]


def test_source_checkout_finds_models_and_resources():
    assert (paths.models_dir() / "lenet5.json").is_file()
    assert paths.resources_dir().is_dir()


def test_frozen_bundle_finds_its_own_copy(tmp_path, monkeypatch):
    (tmp_path / "cnnstudio" / "models").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    paths._find.cache_clear()
    try:
        assert paths.models_dir() == tmp_path / "cnnstudio" / "models"
    finally:
        paths._find.cache_clear()


@pytest.mark.slow
def test_wheel_ships_models_and_resources_and_finds_them(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(tmp_path.glob("cnnstudio-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "cnnstudio/models/lenet5.json" in names
        assert any(n.startswith("cnnstudio/resources/") for n in names)
        site = tmp_path / "site"
        zf.extractall(site)
    code = "from cnnstudio.core.paths import models_dir; print(models_dir())"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == site / "cnnstudio" / "models"


# --- the double-click bundle: build scripts, desktop integration, dispatch, first-start messages -----------

def _packaging_module(name: str):
    import importlib.util

    if str(ROOT / "packaging") not in sys.path:
        sys.path.insert(0, str(ROOT / "packaging"))
    spec = importlib.util.spec_from_file_location(f"cnnstudio_packaging_{name}", ROOT / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_desktop_entry_registers_the_project_type():
    import configparser
    import xml.etree.ElementTree as ET

    build = _packaging_module("build")
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string(build.desktop_entry())
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "cnnstudio %F" and desktop["Icon"] == "cnnstudio"
    assert build.MIME_TYPE in desktop["MimeType"].split(";")
    root = ET.fromstring(build.mime_xml())
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    project = root.find(f"m:mime-type[@type='{build.MIME_TYPE}']", ns)
    assert project is not None and project.find("m:glob", ns).get("pattern") == "*.cnnproj"
    install = (ROOT / "packaging" / "linux" / "install.sh").read_text()
    assert "update-mime-database" in install and "cnnstudio.desktop" in install
    iss = (ROOT / "packaging" / "windows" / "cnnstudio.iss").read_text()
    assert ".cnnproj" in iss and "ChangesAssociations=yes" in iss


def test_build_key_follows_the_sources(tmp_path, monkeypatch):
    import cnnstudio

    build = _packaging_module("build")
    assert build.version() == cnnstudio.__version__
    source = tmp_path / "module.py"
    source.write_text("A = 1\n")
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "_source_files", lambda: [source])
    first = build.build_key()
    assert build.build_key() == first, "the same sources give the same key (no rebuild)"
    source.write_text("A = 2\n")
    assert build.build_key() != first, "an edited source gives a new key (rebuild)"
    bundle = tmp_path / "bundle"
    assert not build.is_current(bundle)
    build.executable(bundle).parent.mkdir(parents=True)
    build.executable(bundle).write_text("")
    (bundle / build.STAMP_NAME).write_text(build.build_key() + "\n")
    assert build.is_current(bundle)


def test_clean_env_has_no_python_on_path(tmp_path, monkeypatch):
    dist_check = _packaging_module("dist_check")
    with_python = tmp_path / "bin"
    with_python.mkdir()
    (with_python / "python3").write_text("")
    monkeypatch.setenv("PATH", os.pathsep.join([str(with_python), "/nonexistent-tools"]))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    env = dist_check.clean_env(tmp_path / "home")
    assert str(with_python) not in env["PATH"].split(os.pathsep)
    assert "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env


def test_files_open_the_gui_and_words_run_commands():
    from cnnstudio.__main__ import opens_gui

    assert opens_gui([]) and opens_gui(["--smoke-test", "out"]) and opens_gui(["--smoke-test=out"])
    assert opens_gui(["demo.cnnproj"]) and opens_gui(["models/lenet5-digits.onnx"]) and opens_gui(["a.PNG"])
    assert opens_gui([f"some{os.sep}folder{os.sep}file"])
    assert not opens_gui(["train", "lenet5"]) and not opens_gui(["--version"]) and not opens_gui(["-h"])


def _cleaned_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QT_PLUGIN_PATH"}}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _start_gui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnstudio", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays are a Linux matter")
def test_no_display_is_one_clear_line_and_exit_2():
    proc = _start_gui(_cleaned_env())
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnstudio: no display found")
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "qt.qpa" not in proc.stderr


def _plugin_missing_a_library(tmp_path: Path) -> Path:
    """A copy of Qt's X11 plugin library whose first xcb dependency names a library that does not exist."""
    from PySide6.QtCore import QLibraryInfo

    qt_lib = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.LibrariesPath)) / "libQt6XcbQpa.so.6"
    if not qt_lib.is_file():
        pytest.skip("this PySide6 has no X11 plugin library")
    data = qt_lib.read_bytes()
    assert b"libxcb-cursor.so.0\0" in data
    plugin = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(data.replace(b"libxcb-cursor.so.0\0", b"libxcb-cursxr.so.0\0"))
    return plugin


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux only")
def test_missing_xcb_library_names_the_package_to_install(tmp_path):
    from cnnstudio.gui.platform_check import debian_package, display_problem

    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    plugin = _plugin_missing_a_library(tmp_path)
    problem = display_problem({"DISPLAY": ":0"}, "linux", plugin)
    assert problem is not None and "libxcb-cursxr.so.0" in problem and "apt install libxcb-cursxr0" in problem
    proc = _start_gui(_cleaned_env(DISPLAY=":0", QT_PLUGIN_PATH=str(plugin.parents[1])))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "libxcb-cursxr.so.0" in lines[0], proc.stderr
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", plugin) is None
    assert display_problem({}, "win32") is None and display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is a Linux matter")
def test_unreachable_x_display_is_reported_not_aborted():
    import ctypes.util

    from cnnstudio.gui.platform_check import _x11_display_problem

    if ctypes.util.find_library("xcb") is None:
        pytest.skip("libxcb is not installed")
    problem = _x11_display_problem(":97")
    assert problem is not None and "cannot connect to the X display ':97'" in problem
    proc = _start_gui(_cleaned_env(DISPLAY=":97"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_missing_or_foreign_file_is_one_line_and_exit_2(tmp_path):
    proc = _start_gui(_cleaned_env(QT_QPA_PLATFORM="offscreen"), str(tmp_path / "missing.cnnproj"))
    assert proc.returncode == 2 and proc.stderr.strip().endswith("missing.cnnproj does not exist.")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    proc = _start_gui(_cleaned_env(QT_QPA_PLATFORM="offscreen"), str(notes))
    assert proc.returncode == 2 and "notes.txt is not a file CNN Studio opens" in proc.stderr


@pytest.mark.dist
@pytest.mark.skipif(os.environ.get("CNNSTUDIO_DIST_CHECK") != "1",
                    reason="builds the PyInstaller bundle (minutes): set CNNSTUDIO_DIST_CHECK=1 or run make dist-check")
def test_bundle_runs_without_python(tmp_path):
    build = _packaging_module("build")
    dist_check = _packaging_module("dist_check")
    bundle = build.build()  # cached: rebuilt only when the sources changed
    results = dist_check.run_checks(bundle, tmp_path)
    failed = [f"{name}: {text}" for name, ok, text in results if not ok]
    assert not failed, "\n".join(failed)
