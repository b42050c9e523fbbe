"""The layer rule: core imports no Qt and no torch; tests/core neither; import-linter catches a breach."""

from __future__ import annotations

import ast
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import cnnstudio.core

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "pyqtgraph", "superqt", "torch", "torchvision", "onnxruntime", "cv2")


def test_importing_all_of_core_loads_no_qt_and_no_torch():
    names = [f"cnnstudio.core.{m.name}" for m in pkgutil.walk_packages(cnnstudio.core.__path__)]
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_core_tests_do_not_import_qt_or_torch():
    for path in (ROOT / "tests" / "core").glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                assert mod.split(".")[0] not in FORBIDDEN, f"{path.name} imports {mod}"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(exe)], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_import_contracts_fail_when_core_imports_qt(tmp_path):
    shutil.copytree(ROOT / "cnnstudio", tmp_path / "cnnstudio", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    kept = _lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    bad = tmp_path / "cnnstudio" / "core" / "qt_leak.py"
    bad.write_text("from PySide6.QtCore import QObject\n")
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "core imports no Qt and no torch BROKEN" in broken.stdout
