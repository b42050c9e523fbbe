"""Build the one-folder PyInstaller bundle for this OS (cached) and pack it for distribution.

    python packaging/build.py            # the bundle in dist/cnnstudio (rebuilt only when sources changed)
    python packaging/build.py --pack     # and the OS package: Linux .tar.gz, macOS .dmg, Windows installer
    python packaging/build.py --force    # rebuild even if nothing changed

The cache key is a hash of everything that goes into the bundle from this repository (the package,
resources, models, this folder's spec) plus the installed versions of the main libraries, stored
beside the bundle. A torch bundle's analysis takes minutes, so an unchanged tree is never rebuilt.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
BUNDLE = DIST / "cnnstudio"  # the COLLECT folder of cnnstudio.spec
STAMP_NAME = ".cnnstudio-build-key"
APP_NAME = "CNN Studio"
MIME_TYPE = "application/x-cnnstudio-project"
#: libraries whose installed version is part of the cache key
KEY_DISTRIBUTIONS = ("pyinstaller", "pyinstaller-hooks-contrib", "torch", "torchvision", "onnxruntime",
                     "opencv-python-headless", "PySide6-Essentials", "numpy", "onnx", "pyqtgraph")


def version() -> str:
    text = (ROOT / "cnnstudio" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def executable(bundle: Path = BUNDLE) -> Path:
    """The app's executable inside a built bundle (the console one on Windows)."""
    if sys.platform == "win32":
        return bundle / "cnnstudio.exe"
    if sys.platform == "darwin":
        app = DIST / f"{APP_NAME}.app" / "Contents" / "MacOS" / "cnnstudio"
        if app.exists():
            return app
    return bundle / "cnnstudio"


def _source_files() -> list[Path]:
    files = []
    for top in ("cnnstudio", "resources", "models"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}:
                files.append(path)
    files += [PACKAGING / "cnnstudio.spec", PACKAGING / "launch.py", ROOT / "pyproject.toml"]
    return files


def build_key() -> str:
    """A hash of the bundle's inputs: source files, the spec and the library versions."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for name in KEY_DISTRIBUTIONS:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-".encode())
    digest.update(os.environ.get("CNNSTUDIO_DIST_NO_CUDA", "").encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def is_current(bundle: Path = BUNDLE) -> bool:
    stamp = bundle / STAMP_NAME
    return executable(bundle).exists() and stamp.exists() and stamp.read_text().strip() == build_key()


def build(force: bool = False) -> Path:
    """Run PyInstaller unless the bundle was built from the same inputs; return the bundle folder."""
    if not force and is_current():
        print(f"dist: {BUNDLE} is up to date (sources unchanged), not rebuilding", flush=True)
        return BUNDLE
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        sys.exit("dist: PyInstaller is not installed: run `.venv/bin/pip install -e '.[dist]'`")
    key = build_key()  # before building: a file edited during the build makes the next call rebuild
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(DIST), "--workpath", str(WORK), str(PACKAGING / "cnnstudio.spec")]
    print("dist:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    (BUNDLE / STAMP_NAME).write_text(key + "\n")
    return BUNDLE


# --- packing -------------------------------------------------------------------------------------

def desktop_entry() -> str:
    """The freedesktop .desktop entry: a menu item that opens projects, ONNX models and images."""
    mime = ";".join([MIME_TYPE, "application/x-onnx", "image/png", "image/jpeg", "image/bmp", "image/webp"])
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "GenericName=CNN experiments\n"
        "Comment=Experiment with convolutional neural networks on images\n"
        "Exec=cnnstudio %F\n"
        "Icon=cnnstudio\n"
        "Terminal=false\n"
        "Categories=Education;Science;ArtificialIntelligence;\n"
        f"MimeType={mime};\n"
        "StartupWMClass=cnnstudio\n"
    )


def mime_xml() -> str:
    """The shared-mime-info description of the .cnnproj file type."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">\n'
        f'  <mime-type type="{MIME_TYPE}">\n'
        "    <comment>CNN Studio project</comment>\n"
        '    <sub-class-of type="application/json"/>\n'
        '    <glob pattern="*.cnnproj"/>\n'
        '    <icon name="cnnstudio"/>\n'
        "  </mime-type>\n"
        '  <mime-type type="application/x-onnx">\n'
        "    <comment>ONNX model</comment>\n"
        '    <glob pattern="*.onnx"/>\n'
        "  </mime-type>\n"
        "</mime-info>\n"
    )


def _arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def pack_linux(bundle: Path) -> Path:
    """dist/cnnstudio-VERSION-linux-ARCH.tar.gz: the bundle, a .desktop entry, the MIME type, an icon
    and install.sh (per-user install into ~/.local that registers the .cnnproj type)."""
    top = f"cnnstudio-{version()}"
    share = DIST / "linux-share"
    shutil.rmtree(share, ignore_errors=True)
    (share / "applications").mkdir(parents=True)
    (share / "mime" / "packages").mkdir(parents=True)
    (share / "icons" / "hicolor" / "256x256" / "apps").mkdir(parents=True)
    (share / "applications" / "cnnstudio.desktop").write_text(desktop_entry(), encoding="utf-8")
    (share / "mime" / "packages" / "cnnstudio.xml").write_text(mime_xml(), encoding="utf-8")
    shutil.copy2(ROOT / "resources" / "icons" / "cnnstudio.png",
                 share / "icons" / "hicolor" / "256x256" / "apps" / "cnnstudio.png")
    out = DIST / f"{top}-linux-{_arch()}.tar.gz"
    level = int(os.environ.get("CNNSTUDIO_DIST_GZIP", "6"))
    print(f"dist: packing {out.name} (gzip level {level}) ...", flush=True)

    def no_stamp(info: tarfile.TarInfo):
        return None if info.name.endswith(STAMP_NAME) else info

    with tarfile.open(out, "w:gz", compresslevel=level) as tar:
        tar.add(bundle, arcname=f"{top}/app", filter=no_stamp)
        tar.add(share, arcname=f"{top}/share")
        tar.add(PACKAGING / "linux" / "install.sh", arcname=f"{top}/install.sh")
    shutil.rmtree(share, ignore_errors=True)
    return out


def pack_macos() -> Path:
    app = DIST / f"{APP_NAME}.app"
    out = DIST / f"cnnstudio-{version()}-macos-{_arch()}.dmg"
    out.unlink(missing_ok=True)
    subprocess.run(["hdiutil", "create", "-volname", APP_NAME, "-srcfolder", str(app), "-ov", "-format", "UDZO",
                    str(out)], check=True)
    return out


def pack_windows(bundle: Path) -> Path:
    script = PACKAGING / "windows" / "cnnstudio.iss"
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    default = Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    if iscc is None and default.exists():
        iscc = str(default)
    if iscc is None:
        sys.exit(f"dist: Inno Setup's ISCC.exe was not found; the app folder is {bundle}. "
                 f"Install Inno Setup 6 and run: iscc /DAppVersion={version()} {script}")
    subprocess.run([iscc, f"/DAppVersion={version()}", f"/DSourceDir={bundle}", f"/DOutputDir={DIST}", str(script)],
                   check=True)
    return DIST / f"cnnstudio-{version()}-windows-setup.exe"


def pack(bundle: Path) -> Path:
    if sys.platform == "darwin":
        return pack_macos()
    if sys.platform == "win32":
        return pack_windows(bundle)
    return pack_linux(bundle)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", action="store_true", help="also make the OS package (.tar.gz, .dmg, installer)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the sources are unchanged")
    args = parser.parse_args(argv)
    bundle = build(force=args.force)
    print(f"dist: bundle {bundle} ({folder_size(bundle) / 2**30:.2f} GiB)", flush=True)
    if args.pack:
        out = pack(bundle)
        print(f"dist: package {out} ({out.stat().st_size / 2**30:.2f} GiB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
