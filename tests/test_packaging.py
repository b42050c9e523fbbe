"""Resources and models are found from a source checkout, an installed wheel and a frozen bundle alike."""

from __future__ import annotations

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
